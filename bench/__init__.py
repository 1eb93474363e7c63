"""Benchmarks: `python -m bench` (or `make bench`) runs every module here, `python -m bench NAME` one.

Each module has `main() -> str` that runs its measurements and returns a Markdown section with
the machine, date, figures and ratios, copied by hand into docs/benchmarks.md.
"""
