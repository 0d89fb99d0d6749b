"""Renderers of results (SARIF)."""
