"""The analyses: prove, diff, validate, account diff, vacuity, determinism."""
