"""Check 2, ``initial-loss``: the loss before any training against its value at small weights.

With small weights all scores are about equal, so the softmax loss is ``-ln(1/C) = ln C`` and the
multiclass SVM loss (margin 1) is ``C - 1`` (CS231n, "sanity checks"; Karpathy's "verify loss @ init").
Random weights add roughly ``s^2 / 2`` for scores of standard deviation ``s`` (softmax), so a well
scaled network lands a little above. On ``budget.eval_examples`` training examples, in evaluation mode:

* ratio = loss / expected within ``[0.75, PASS_HIGH]`` = [0.75, 1.25] -> pass;
* above ``PASS_HIGH`` up to ``FAIL_HIGH`` = 2 -> warn; above 2, or NaN/Inf -> fail (scores too large:
  the weights, or the inputs, are too large);
* below 0.75 -> warn: a random network should not beat chance (a pretrained model, or labels leaking
  into the inputs).
"""
from __future__ import annotations

import math

from trainlab.doctor.base import Verdict, fmt, register
from trainlab.doctor.fit import measure
from trainlab.doctor.patient import Patient
from trainlab.losses import expected_initial_loss

PASS_LOW, PASS_HIGH, FAIL_HIGH = 0.75, 1.25, 2.0
FORMULA = {"softmax": "ln C", "svm": "C - 1"}


@register("initial-loss", "Initial loss against ln C (softmax) or C - 1 (SVM)")
def check_initial_loss(p: Patient) -> Verdict:
    if p.loss_name is None:
        return Verdict("skipped", "the expected initial loss of a custom loss function is unknown",
                       advice="Pass loss_fn='softmax' or 'svm' (or torch.nn.CrossEntropyLoss()) to check it.")
    expected = expected_initial_loss(p.loss_name, p.num_classes)
    x, y = p.sample(p.budget.eval_examples, "initial-loss")
    loss, _ = measure(p.copy(), p.loss_fn, x, y)
    ratio = loss / expected if math.isfinite(loss) else float("inf")
    numbers = {"loss": loss, "expected": expected, "ratio": ratio, "loss_name": p.loss_name,
               "num_classes": p.num_classes, "examples": len(y)}
    said = f"initial loss {fmt(loss)} vs expected {FORMULA[p.loss_name]} = {fmt(expected)} (ratio {fmt(ratio)})"
    if not math.isfinite(loss):
        return Verdict("fail", f"initial loss is {loss}", numbers,
                       "The untrained network already produces NaN/Inf: check the data (the data check) "
                       "and the weight scale.", ("numeric-instability", "exploding-gradient"))
    if ratio > FAIL_HIGH:
        return Verdict("fail", said + f"; fail above {FAIL_HIGH}x", numbers, _TOO_HIGH, TOO_HIGH_CAUSES)
    if ratio > PASS_HIGH:
        return Verdict("warn", said + f"; warn above {PASS_HIGH}x", numbers, _TOO_HIGH, TOO_HIGH_CAUSES)
    if ratio < PASS_LOW:
        return Verdict("warn", said + f"; lower than chance before training (warn below {PASS_LOW}x)", numbers,
                       "An untrained network should score at chance: unless the model is pretrained, "
                       "check that the labels do not leak into the inputs.", ("wrong-labels",))
    return Verdict("pass", said, numbers)


TOO_HIGH_CAUSES = ("bad-init-large", "input-scale-large")
_TOO_HIGH = ("The scores at initialization are too large: scale the weights down (--init glorot-uniform for "
             "tanh/sigmoid, he-normal for relu, or --init-scale < 1; a small last layer is fine) and "
             "check that the inputs are standardized (--preprocess mean,std).")
