"""Bergstra & Bengio (2012): random against grid search at equal budgets (``experiment.py``)."""
