"""The query warnings live in `kmssmt.checks.query_lint` (the audit's guardrails use them too, and the
audit layer is below the analyses); this name is kept for the importers of the analyses layer."""

from kmssmt.checks.query_lint import lint_query

__all__ = ["lint_query"]
