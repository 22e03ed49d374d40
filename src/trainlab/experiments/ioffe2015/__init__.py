"""Ioffe & Szegedy (2015), batch normalization: Figure 1 on MNIST (``mnist.py``) and the higher
learning rates it allows (``learning_rates.py``)."""
