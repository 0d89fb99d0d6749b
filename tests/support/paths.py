"""Paths of the repository that tests read, independent of where a test module sits."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SEEDS = FIXTURES / "seeds"
VALIDATE_FIXTURES = FIXTURES / "validate"
EXAMPLES = ROOT / "examples"
