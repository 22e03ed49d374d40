"""Gradient checking: analytic gradients against finite differences (CS231n notes).

    from trainlab.gradcheck import GradCheckConfig, check_gradients, numerical_gradient
    report = check_gradients(model, loss_fn, x, y, config=GradCheckConfig(), weight_decay=0.0)
    report.verdict, report.parameters, report.to_json()

See :mod:`trainlab.gradcheck.settings` for the verdict bands,
:mod:`trainlab.gradcheck.kinks` for kink detection and
:mod:`trainlab.gradcheck.numeric` for the (batched) numerical gradient.
"""
from __future__ import annotations

from trainlab.gradcheck.check import (
    GradCheckReport,
    LossPrecisionError,
    ParamCheck,
    check_gradients,
    relative_errors,
)
from trainlab.gradcheck.kinks import KINK_LOSSES, KINK_MODULES, KinkRecorder
from trainlab.gradcheck.numeric import (
    BatchedObjective,
    LinearObjective,
    batched_numerical_gradient,
    loop_numerical_gradient,
    numerical_gradient,
)
from trainlab.gradcheck.settings import VERDICTS, GradCheckConfig, band

__all__ = ["BatchedObjective", "GradCheckConfig", "GradCheckReport", "KINK_LOSSES", "KINK_MODULES",
           "KinkRecorder", "LinearObjective", "LossPrecisionError", "ParamCheck", "VERDICTS", "band",
           "batched_numerical_gradient", "check_gradients", "loop_numerical_gradient", "numerical_gradient",
           "relative_errors"]
