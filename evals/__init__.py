"""Quality and performance measurement: golden set, LegalBench-style harness, benchmarks."""
