"""Fixtures for the doctor's tests (helpers live in doctor_cases.py)."""
from __future__ import annotations

import pytest

from tests.doctor.doctor_cases import teacher_problem
from trainlab.data.base import Split


@pytest.fixture(scope="session")
def problem() -> tuple[Split, Split]:
    return teacher_problem()
