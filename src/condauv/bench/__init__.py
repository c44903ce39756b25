"""``condauv bench``: the strategy's benchmarks (install time conda-only vs uv-only vs hybrid,
pip vs uv, footprint, import time, functionality), measured on the project's own package set."""
