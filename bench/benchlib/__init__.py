"""bench/run's modules."""
