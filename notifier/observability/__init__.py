"""Metrics of every process (Prometheus), importable by the API, the pipeline and the scheduler."""
