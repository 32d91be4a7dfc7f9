"""Speed benchmarks: analytic FLOPs, round-robin timing, the side-by-side model comparison.

Run with `python bench/model_speed.py`; see `bench/README.md`.
"""
