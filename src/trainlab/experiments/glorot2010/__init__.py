"""Glorot & Bengio (2010): the ``glorot2010`` reproduction (``experiment.py``, from Table 1 to the
claims, in the modules beside it) and ``glorot2010-init-stats`` (``init_stats.py``, Figures 6-8 at
initialization)."""
