"""Experiments behind yuyi's design choices (run from the repository root as
`python -m benchmarks.NAME`); the user-facing measurements are `yuyi bench` subcommands."""
