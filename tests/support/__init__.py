"""Shared test support: generators and oracles used by the agreement tests and the soak scripts."""
