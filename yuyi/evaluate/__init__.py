"""Evaluation: dataset loaders read through the data_dir setting (YUYI_DATA_DIR) and metrics on real CJK benchmarks."""
