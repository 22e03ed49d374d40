"""The ranked diagnosis: parsimony over the checks' findings, and planted faults with their healthy twins."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from tests.doctor.doctor_cases import CLASSES, DIMS, doctor, mlp
from trainlab.doctor import CheckResult, Verdict
from trainlab.doctor.causes import CAUSES, CHECK_STAGE, explains
from trainlab.doctor.checks import ORDER
from trainlab.doctor.diagnosis import diagnose, rule_out


def result(id: str, status: str, *causes: str, rules_out: tuple[str, ...] = ()) -> CheckResult:
    return CheckResult(id=id, title=id, status=status, evidence=f"{id} says {status}", numbers={}, advice="",
                       seconds=0.0, causes=causes, rules_out=rules_out)


def test_a_warning_whose_every_cause_a_pass_rules_out_is_dismissed_and_says_why():
    results = [result("data", "pass", rules_out=("input-scale-large",)),
               result("initial-loss", "warn", "bad-init-large", "input-scale-large"),
               result("init-health", "pass", rules_out=("bad-init-large",)),
               result("update-ratio", "warn", "lr-too-high")]
    after = rule_out(results)
    loss, ratio = after[1], after[3]
    assert loss.status == "pass" and loss.causes == () and loss.ruled_out_by == ("init-health", "data")
    assert "dismissed" in loss.evidence and "bad-init-large by init-health" in loss.evidence
    assert ratio.status == "warn" and ratio.ruled_out_by == ()  # nothing rules lr-too-high out
    assert [h.cause for h in diagnose(after)] == ["lr-too-high"]
    assert [r.status for r in results] == ["pass", "warn", "pass", "warn"]  # the input is not changed


def test_a_fail_is_never_dismissed_and_a_warning_with_a_cause_left_stays():
    results = [result("recipe", "pass", rules_out=("lr-too-high", "lr-too-low")),
               result("lr-range", "fail", "lr-too-high"),
               result("update-ratio", "warn", "lr-too-low", "vanishing-gradient")]
    assert [r.status for r in rule_out(results)] == ["pass", "fail", "warn"]


def test_a_direct_measurement_strikes_its_causes_from_a_failed_symptom():
    # The blind set's over-large N(0, 1) kernels: initial-loss fails naming bad init or large inputs, and the
    # data check measured unit-scale inputs, so the fail points at the init (before: "inputs too large" ranked
    # first, upstream).
    data = result("data", "pass", rules_out=("input-scale-large", "input-scale-small"))
    loss = result("initial-loss", "fail", "bad-init-large", "input-scale-large")
    found = [data, loss, result("init-health", "warn", "exploding-gradient", "bad-init-large"),
             result("gradient-flow", "warn", "exploding-gradient"), result("update-ratio", "warn", "lr-too-high"),
             result("recipe", "fail", "lr-too-high", "bad-optimizer-settings"),
             result("generalization-gap", "fail", "input-ignored", "too-little-capacity")]
    assert diagnose(found)[0].cause == "input-scale-large"  # what the findings gave without the strike
    assert diagnose(rule_out(found))[0].cause == "bad-init-large"
    after = rule_out([data, loss])[1]
    assert after.status == "fail" and after.causes == ("bad-init-large",)  # the fail stays, its cause narrows
    # A check that measures a symptom (init-health) rules out through warnings only, never from a fail.
    health = result("init-health", "pass", rules_out=("bad-init-large",))
    assert rule_out([health, loss])[1].causes == ("bad-init-large", "input-scale-large")
    # A fail whose every cause is contradicted keeps them: it still has to be explained.
    assert rule_out([data, result("initial-loss", "fail", "input-scale-large")])[1].causes == ("input-scale-large",)
    # gradcheck's pass strikes a detached gradient from a failed gradient-flow.
    grad = result("gradcheck", "pass", rules_out=("wrong-gradient", "detached-gradient"))
    flow = result("gradient-flow", "fail", "detached-gradient", "bad-init-zeros")
    assert rule_out([grad, flow])[1].causes == ("bad-init-zeros",)


def test_only_a_pass_can_rule_causes_out():
    with pytest.raises(ValueError, match="only a pass"):
        Verdict("warn", "x", causes=("lr-too-high",), rules_out=("lr-too-low",))
    with pytest.raises(ValueError, match="unknown cause"):
        Verdict("pass", "x", rules_out=("no-such-cause",))


def test_a_mechanism_whose_consequence_fails_outranks_the_failed_symptom():
    # A summed loss (a warning of the check that measures it) makes the recipe train badly (a fail naming the
    # learning rate): the summed loss explains the recipe's failure, not the reverse.
    found = diagnose([result("loss-reduction", "warn", "loss-reduction"),
                      result("update-ratio", "warn", "lr-too-high"),
                      result("recipe", "fail", "lr-too-high", "bad-optimizer-settings")])
    assert found[0].cause == "loss-reduction" and found[0].status == "fail"
    assert set(found[0].consequences) == {"update-ratio", "recipe"}
    assert "the failure of recipe follows from it" in found[0].why and "one of its consequences" in found[0].why
    # Without the failure downstream the warning stays a warning, below nothing else.
    alone = diagnose([result("loss-reduction", "warn", "loss-reduction")])
    assert alone[0].status == "warn"


def test_every_check_has_a_stage_and_every_cause_a_known_stage():
    assert set(CHECK_STAGE) == set(ORDER)
    assert {c.stage for c in CAUSES.values()} <= {"data", "loss", "code", "signal", "output", "model", "recipe", "fit"}


def test_nothing_found_is_no_diagnosis():
    assert diagnose([result("data", "pass"), result("lr-range", "skipped")]) == []


def test_an_upstream_cause_explains_the_later_alarms_as_its_consequences():
    found = diagnose([result("data", "fail", "input-scale-large"),
                      result("init-health", "fail", "saturating-activation"),
                      result("lr-range", "fail", "lr-too-high"), result("update-ratio", "warn", "lr-too-high")])
    top = found[0]
    assert top.cause == "input-scale-large" and top.status == "fail"
    assert top.consequences == ("init-health", "lr-range", "update-ratio")
    assert "upstream" in top.why or "accounts for more" in top.why
    assert {h.cause for h in found} == {"input-scale-large", "saturating-activation", "lr-too-high"}


def test_a_failed_check_outranks_any_number_of_warnings():
    warnings = [result(id, "warn", "lr-too-low") for id in ("lr-range", "update-ratio", "generalization-gap")]
    found = diagnose(warnings + [result("gradcheck", "fail", "wrong-gradient")])
    assert [h.cause for h in found] == ["wrong-gradient", "lr-too-low"]
    assert "rests on a failed check" in found[0].why and "the learning rate is too low" in found[0].why


def test_a_check_of_the_mechanism_outranks_a_symptom_naming_another_cause():
    # Saturated units and a large initial loss: the saturation explains the loss, not the reverse.
    found = diagnose([result("init-health", "fail", "saturating-activation", "bad-init-large"),
                      result("initial-loss", "fail", "bad-init-large", "input-scale-large")])
    assert found[0].cause == "saturating-activation" and found[0].consequences == ("initial-loss",)


def test_a_later_named_cause_counts_less_than_the_first():
    found = diagnose([result("input-independent-baseline", "fail", "input-ignored", "wrong-labels")])
    assert [h.cause for h in found] == ["input-ignored", "wrong-labels"]
    assert found[0].score == 2 * found[1].score


def test_wrong_labels_do_not_explain_a_model_that_cannot_memorize():
    assert not explains("wrong-labels", "overfit-tiny") and explains("wrong-labels", "generalization-gap")
    assert explains("input-scale-large", "overfit-tiny") and not explains("lr-too-high", "data")


def test_a_verdict_naming_an_unknown_cause_is_refused():
    with pytest.raises(ValueError, match="unknown cause"):
        Verdict("fail", "x", causes=("bad-karma",))


# -- planted faults, each with its healthy twin (the tiny budget, every check) --------------------------

def test_inputs_far_from_unit_scale_lead_the_diagnosis_and_explain_the_rest(problem):
    train, val = problem
    scaled = [type(s)(s.x * 500 + 2_000, s.y) for s in (train, val)]
    report = doctor(mlp(), *scaled, lr=0.05)
    top = report.diagnosis[0]
    assert top.cause == "input-scale-large" and "data" in top.evidence
    assert set(top.consequences) >= {r.id for r in report.failed} - {"data"}
    twin = doctor(mlp(), train, val, lr=0.05)
    assert not [h for h in twin.diagnosis if h.status == "fail"]


def test_a_cut_backward_path_is_named_as_such_not_as_a_wrong_gradient(problem):
    class Detached(nn.Module):
        def __init__(self, cut: bool) -> None:
            super().__init__()
            self.first, self.act, self.last, self.cut = nn.Linear(DIMS, 32), nn.Tanh(), nn.Linear(32, CLASSES), cut

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.act(self.first(x))
            return self.last(h.detach() if self.cut else h)

    torch.manual_seed(0)
    report = doctor(Detached(cut=True), *problem, lr=0.05)
    assert report.diagnosis[0].cause == "detached-gradient"
    assert "autograd gives no gradient at all to first.weight" in report["gradcheck"].evidence
    torch.manual_seed(0)
    twin = doctor(Detached(cut=False), *problem, lr=0.05)
    assert twin["gradcheck"].status == "pass" and "detached-gradient" not in {h.cause for h in twin.diagnosis}


def test_the_diagnosis_comes_first_in_text_json_and_html(problem, tmp_path):
    train, val = problem
    tiny = [type(s)(s.x / 1e4, s.y) for s in (train, val)]
    report = doctor(mlp(), *tiny, lr=0.05, checks=["data", "init-health", "gradient-flow"])
    assert report.diagnosis[0].cause == "input-scale-small"
    text = report.to_text()
    assert text.startswith("Diagnosis: the inputs are far below unit scale [input-scale-small], likely.")
    out = report.save(tmp_path / "doc")
    loaded = json.loads((out / "report.json").read_text())
    assert loaded["diagnosis"][0]["cause"] == "input-scale-small"
    assert set(loaded["diagnosis"][0]) >= {"title", "evidence", "consequences", "why", "advice", "score"}
    assert loaded["checks"][0]["causes"] == ["input-scale-small"]
    html = (out / "report.html").read_text()
    assert html.index("Diagnosis") < html.index("Summary") and "input-scale-small" in html


# -- two healthy architectures the doctor used to fail, each beside the fault it must still catch ---------

def _xor(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    corners = torch.randint(0, 2, (n, 2), generator=g)
    return corners.float() * 2 - 1 + 0.1 * torch.randn(n, 2, generator=g), (corners[:, 0] ^ corners[:, 1]).long()


def test_the_input_baseline_judges_the_users_recipe_when_the_doctors_cannot_fit_the_model():
    g = torch.Generator().manual_seed(0)
    train, val = _xor(400, g), _xor(200, g)

    def judged(lr: float | None, ignore_input: bool = False) -> CheckResult:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Dropout(p=1.0) if ignore_input else nn.Identity(), nn.Linear(2, 8), nn.Tanh(),
                              nn.Linear(8, 2))
        kwargs = {} if lr is None else {"lr": lr, "optimizer": "adam"}
        report = doctor(model, train, val, checks=["input-independent-baseline"], **kwargs)
        return report["input-independent-baseline"]

    assert judged(None).status == "fail"  # Adam at 1e-3 does not fit XOR in 100 steps: the doctor's recipe alone
    yours = judged(0.03)
    assert yours.status == "pass" and "adam lr 0.03" in yours.evidence and yours.numbers["doctor_recipe_gain"] < 0.02
    assert judged(0.03, ignore_input=True).status == "fail"  # every input dropped: no recipe helps


def test_a_zero_class_token_is_not_symmetric_weights_but_a_constant_weight_matrix_is(problem):
    class Tokened(nn.Module):
        def __init__(self, constant: bool) -> None:
            super().__init__()
            self.cls = nn.Parameter(torch.zeros(1, 1, DIMS))  # as ViT initializes its class token
            self.body = nn.Sequential(nn.Linear(DIMS, 32), nn.Tanh(), nn.Linear(32, CLASSES))
            if constant:
                nn.init.constant_(self.body[0].weight, 0.01)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x + self.cls[0])

    torch.manual_seed(0)
    healthy = doctor(Tokened(constant=False), *problem, checks=["init-health"])["init-health"]
    assert healthy.status == "pass", healthy.evidence
    torch.manual_seed(0)
    faulty = doctor(Tokened(constant=True), *problem, checks=["init-health"])["init-health"]
    assert faulty.status == "fail" and "symmetric weights: every entry of body.0.weight" in faulty.evidence
    assert faulty.causes[0] == "bad-init-zeros"
