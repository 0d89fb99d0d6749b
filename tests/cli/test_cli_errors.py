"""One place chooses exit codes: an internal error is exit 70 on stderr and never corrupts stdout."""

from __future__ import annotations

import pytest

from kmssmt.cli import main
from kmssmt.errors import InputError, InternalError, ReplayError
from tests.support.paths import ROOT

POLICY = str(ROOT / "examples" / "policies" / "app-crypto.json")


def test_error_family() -> None:
    assert issubclass(ReplayError, InternalError)
    assert not issubclass(InputError, InternalError)


@pytest.mark.parametrize("argv", [
    ["prove", POLICY, "--never", "can anyone kms:Decrypt on *", "--format", "json"],
    ["diff", POLICY, POLICY, "--format", "json"],
])
def test_internal_error_is_exit_70_on_stderr(argv: list[str], monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ReplayError("a witness the evaluator contradicts")

    # the commands import their analyses when they run, so the analyses' own names are patched
    monkeypatch.setattr("kmssmt.analyses.prove.prove", broken)
    monkeypatch.setattr("kmssmt.analyses.diff.diff", broken)
    assert main(argv) == 70
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "internal error: a witness the evaluator contradicts" in captured.err
