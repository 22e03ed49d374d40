"""The doctor: the sanity checks people run by hand when a network will not train, automated.

    from trainlab.doctor import examine
    report = examine(model, "softmax", (x, y), val_data=(x_val, y_val), lr=0.01)
    print(report.to_text()); report.save("doctor-out")      # report.json + report.html
    if report.failed: ...

Fifteen checks run in the order of CS231n's "babysitting the learning process" and Karpathy's
"A recipe for training neural networks" (ids in :data:`ORDER`); each returns ``{id, status
(pass|warn|fail|skipped), evidence, numbers, advice}``. The user's model is never changed: every
check works on a deep copy. ``report.diagnosis`` ranks the causes behind what they found
(:mod:`trainlab.doctor.diagnosis`).
"""
from __future__ import annotations

from trainlab.doctor.base import CheckResult, Verdict
from trainlab.doctor.checks import CHECKS, ORDER
from trainlab.doctor.examine import examine
from trainlab.doctor.patient import DOCTOR_RECIPE, Budget, Recipe
from trainlab.doctor.report import DoctorReport

__all__ = ["CHECKS", "CheckResult", "DOCTOR_RECIPE", "Budget", "DoctorReport", "ORDER", "Recipe", "Verdict", "examine"]
