"""He et al. (2015): Xavier against He initialization in deep ReLU MLPs (``experiment.py``, ``figures.py``)."""
