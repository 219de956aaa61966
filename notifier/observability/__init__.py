"""What operators see: Prometheus metrics, structured logs and the context (request id) every line carries."""
