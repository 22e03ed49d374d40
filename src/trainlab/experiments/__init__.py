"""One-command reproductions of classic results, one folder per source, in a registry.

Adding a reproduction: write ``experiments/<source>/<name>.py`` with a registered
:class:`~trainlab.experiments.base.Experiment` subclass and add its module path
(``"<source>.<name>"``) to :data:`~trainlab.experiments.base.MODULES`. No ``__init__.py``
here holds code.
"""
from __future__ import annotations

from trainlab.experiments.base import (
    MODULES,
    REGISTRY,
    Claim,
    Context,
    Experiment,
    Result,
    load_all,
    register,
    run_experiment,
)

__all__ = ["MODULES", "Claim", "Context", "Experiment", "REGISTRY", "Result", "load_all", "register", "run_experiment"]
