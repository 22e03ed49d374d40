"""Reproductions from the CS231n notes and lectures: activations at initialization (``activations.py``),
optimization of a linear classifier (``optimization.py``), data preprocessing (``preprocessing.py``) and
batch normalization before a nonlinearity (``bn_before_after.py``)."""
