"""Hyperparameter search on Optuna (samplers, pruners, storage) with trainlab populations.

    from trainlab.search import SearchConfig, load_space, run_search
    summary = run_search(SearchConfig(space=load_space("examples/search-space.toml"), out=Path("study"),
                                      trials=64, population=16, sampler="random"))
"""
from __future__ import annotations

from trainlab.search.folds import fold_dataset
from trainlab.search.runner import Search, SearchConfig, run_search
from trainlab.search.samplers import PRUNERS, SAMPLERS
from trainlab.search.space import Param, SearchSpace, load_space, parse_space

__all__ = ["PRUNERS", "Param", "SAMPLERS", "Search", "SearchConfig", "SearchSpace", "fold_dataset", "load_space",
           "parse_space", "run_search"]
