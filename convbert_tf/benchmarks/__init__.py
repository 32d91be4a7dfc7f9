"""Speed benchmarks: analytic FLOPs, round-robin timing, the side-by-side model comparison.

Run with `convbert-tf bench` or `python bench/model_speed.py`; see `bench/README.md`.
"""
