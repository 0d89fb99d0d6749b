"""The audit: access matrix, findings, guardrails, cell texts."""
