"""The validate checks: each check's fixtures and the SMT-proven checks."""
