"""The same question gives the same answer, whatever the process solved before."""

from __future__ import annotations

import contextlib
import io

from kmssmt.cli import main
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples" / "policies"


def output(*argv: str) -> list[str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(list(argv))
    return [line for line in buffer.getvalue().splitlines() if not line.strip().endswith("ms)")]


def test_diff_and_prove_are_deterministic() -> None:
    diff_args = ("diff", str(EXAMPLES / "app-crypto.json"), str(EXAMPLES / "app-crypto-v2.json"))
    prove_args = ("prove", str(EXAMPLES / "app-crypto.json"), "--never",
                  "can anyone kms:* on acs:kms:*:*:key/* when acs:SourceIp not in 10.0.0.0/8")
    first_diff, first_prove = output(*diff_args), output(*prove_args)
    output("prove", str(EXAMPLES / "app-crypto-v2.json"), "--always", "can anyone kms:Decrypt on *")
    assert output(*diff_args) == first_diff
    assert output(*prove_args) == first_prove
