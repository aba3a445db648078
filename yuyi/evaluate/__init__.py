"""Evaluation: dataset loaders over `../shared/data` and metrics on real CJK benchmarks."""
