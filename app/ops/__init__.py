"""Running the service: readiness, Prometheus metrics, structured logs with request ids."""
