"""Data preprocessing: scikit-learn-shaped transforms on torch tensors, pipelines, CLI names.

See :mod:`trainlab.preprocess.pipeline` for the ``--preprocess`` grammar.
"""
from __future__ import annotations

from trainlab.preprocess.base import (
    FeatureScaleWarning,
    NotFittedError,
    PreprocessingWarning,
    Transform,
    UncenteredDataWarning,
)
from trainlab.preprocess.pca import PCA, PCAWhitening, ZCAWhitening
from trainlab.preprocess.pipeline import (
    PREPROCESSORS,
    Pipeline,
    PreprocessedDataset,
    TransformedSource,
    apply_pipeline,
    build_step,
    transform_dataset,
)
from trainlab.preprocess.scaling import MeanSubtraction, MinMax, Standardize

__all__ = [
    "FeatureScaleWarning", "MeanSubtraction", "MinMax", "NotFittedError", "PCA", "PCAWhitening", "PREPROCESSORS",
    "Pipeline", "PreprocessedDataset", "PreprocessingWarning", "Standardize", "Transform",
    "TransformedSource", "UncenteredDataWarning", "ZCAWhitening", "apply_pipeline", "build_step",
    "transform_dataset",
]
