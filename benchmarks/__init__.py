"""ember vs torch benchmarks: ``python benchmarks/run.py --threads 1`` (see benchmarks/README.md)."""
