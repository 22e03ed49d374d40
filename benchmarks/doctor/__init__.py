"""The doctor's fault benchmark: faulty and healthy patients with their ground truth (see ``run.py``)."""
