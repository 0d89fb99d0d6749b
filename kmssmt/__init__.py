"""kmssmt: prove properties of Alibaba Cloud RAM policies for KMS with the Z3 SMT solver.

The library API:

    >>> import kmssmt
    >>> policy = kmssmt.parse_policy(text, "policy.json")
    >>> kmssmt.prove([policy], "can anyone kms:Decrypt on * when acs:SourceIp not in 10.0.0.0/8")
    >>> kmssmt.diff([old], [new])
    >>> kmssmt.no_new_access("old.json", "new.json").status  # gates: pass, fail, unknown or vacuous
    >>> kmssmt.semantics.evaluate([policy], kmssmt.Request("kms:Decrypt", "acs:kms:cn-hangzhou:1:key/k"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Request", "access_not_granted", "diff", "evaluate", "load_policy", "no_new_access", "no_public_access",
           "parse_policy", "parse_query", "prove", "__version__"]

if TYPE_CHECKING:
    from kmssmt.analyses.diff import diff
    from kmssmt.analyses.gates import access_not_granted, no_new_access, no_public_access
    from kmssmt.analyses.prove import prove
    from kmssmt.policy.reading import load_policy, parse_policy
    from kmssmt.semantics.evaluate import evaluate
    from kmssmt.semantics.query import parse_query
    from kmssmt.semantics.request import Request

_LAZY = {"diff": "kmssmt.analyses.diff", "prove": "kmssmt.analyses.prove", "evaluate": "kmssmt.semantics.evaluate",
         "load_policy": "kmssmt.policy.reading", "parse_policy": "kmssmt.policy.reading",
         "parse_query": "kmssmt.semantics.query", "Request": "kmssmt.semantics.request",
         "no_new_access": "kmssmt.analyses.gates", "access_not_granted": "kmssmt.analyses.gates",
         "no_public_access": "kmssmt.analyses.gates"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
