"""Benchmarks: `./tessera bench [run|search|fanout|registry]` runs `python -m bench.<name>`."""
