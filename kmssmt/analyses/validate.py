"""`validate`: every check on every policy document of the given files and directories.

Files are policy documents (`*.json`), Terraform files (`*.tf`) and ROS templates (`*.json`,
`*.yaml`, `*.yml`); directories are searched recursively. Each file is read, parsed and checked
on its own (in worker processes with `jobs > 1`); suppressions apply afterwards, and what they
hide is kept and counted.

Input that cannot be read is an error of its own (`FileResult.error`), never a silent pass: a
YAML file that is no ROS template, a file that is no policy document, a directory in which no
policy or template is found."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kmssmt.checks import CheckOptions, run_checks
from kmssmt.checks.config import SEVERITY_ORDER, Config
from kmssmt.errors import InputError
from kmssmt.parallel import run_units, worker_count
from kmssmt.policy.ast import Finding, Policy, Severity
from kmssmt.policy.loading import SNAPSHOT_AMONG_POLICIES, is_snapshot_file

POLICY_SUFFIXES = (".json",)
TEMPLATE_SUFFIXES = (".tf", ".yaml", ".yml")
NO_POLICY_FILES = ("no policy file found in the directory (policy documents *.json, Terraform *.tf, "
                   "ROS templates *.json, *.yaml, *.yml)")
SKIP_DIRS = {".git", ".hg", ".svn", ".terraform", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


@dataclass(frozen=True)
class FileResult:
    file: str
    findings: tuple[Finding, ...] = ()
    documents: int = 0
    seconds: float = 0.0
    error: str | None = None  # `file:line:col: reason` of unreadable input
    cpu_seconds: float = 0.0  # processor time of the worker for this file (robust to other load)


@dataclass(frozen=True)
class FailOn:
    """What fails a run: every finding at or above `level`, and every finding whose id is one of
    `ids` or starts with one of them (a family prefix such as KMS4). Written as a comma-separated
    list of levels and ids (`error`, `KMS101,KMS205`, `warning,KMS4`); with ids only, only those
    findings fail the run."""

    level: Severity | None = "error"
    ids: tuple[str, ...] = ()

    @staticmethod
    def parse(text: str) -> FailOn:
        """`error`, `KMS101,KMS205`, `security,KMS205` (the lowest level listed counts); ValueError if malformed."""
        levels: list[Severity] = []
        ids: list[str] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            if part.lower() in SEVERITY_ORDER:
                levels.append(_SEVERITIES[part.lower()])
            elif _ID.fullmatch(part):
                ids.append(part.upper())
            else:
                raise ValueError(f"{part!r} is neither a severity ({', '.join(SEVERITY_ORDER)}) nor a finding id")
        if not levels and not ids:
            raise ValueError("empty list: give a severity or finding ids")
        if not levels:
            return FailOn(None, tuple(dict.fromkeys(ids)))
        lowest: Severity = max(levels, key=SEVERITY_ORDER.__getitem__)
        return FailOn(lowest, tuple(dict.fromkeys(ids)))

    def fails(self, finding: Finding) -> bool:
        if self.level is not None and SEVERITY_ORDER[finding.severity] <= SEVERITY_ORDER[self.level]:
            return True
        return any(finding.id.startswith(i) for i in self.ids)

    def __str__(self) -> str:
        return ",".join([*([self.level] if self.level else []), *self.ids])


_SEVERITIES: dict[str, Severity] = {"error": "error", "security": "security", "warning": "warning",
                                    "suggestion": "suggestion"}
_ID = re.compile(r"[A-Za-z]+[0-9]+")


def fail_on(threshold: Severity | FailOn) -> FailOn:
    return threshold if isinstance(threshold, FailOn) else FailOn(threshold)


def unknown_ids(ids: Sequence[str]) -> list[str]:
    """The ids (or prefixes) among `ids` that name no registered finding rule."""
    if not ids:
        return []
    import kmssmt.policy.embedded  # noqa: F401  (registers the template rules)
    import kmssmt.policy.reading  # noqa: F401
    import kmssmt.policy.schema  # noqa: F401
    from kmssmt.checks import register_all_checks
    from kmssmt.policy.findings import RULES

    register_all_checks()
    return [i for i in ids if not any(rule.startswith(i) for rule in RULES)]


class Suppressed(NamedTuple):
    """A finding a suppression hides, and the suppression's reason."""

    finding: Finding
    reason: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[str]:
        return [f.error for f in self.files if f.error is not None]

    def counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter(f.severity for f in self.findings)
        return {severity: counts.get(severity, 0) for severity in SEVERITY_ORDER}

    def failing(self, threshold: Severity | FailOn) -> list[Finding]:
        """The findings that fail the run: at or above a severity, or as `FailOn` says."""
        spec = fail_on(threshold)
        return [f for f in self.findings if spec.fails(f)]

    def summary(self, threshold: Severity | FailOn = "error") -> dict[str, Any]:
        suppressed: Counter[str] = Counter(s.finding.id for s in self.suppressed)
        return {"files": len(self.files), "documents": sum(f.documents for f in self.files),
                "unreadable": len(self.errors), "findings": len(self.findings), "by_severity": self.counts(),
                "suppressed": len(self.suppressed), "suppressed_by_id": dict(sorted(suppressed.items())),
                "fail_on": str(fail_on(threshold)), "failing": len(self.failing(threshold)),
                "seconds": round(self.seconds, 3)}


class FoundFile(NamedTuple):
    """A file to validate: named on the command line (`explicit`) or found in a directory."""

    path: str
    explicit: bool


def collect_files(paths: Sequence[str]) -> list[FoundFile]:
    """Each file to validate; directories are searched recursively, and files found there are kept
    only when they look like policies or templates."""
    out: list[FoundFile] = []
    for path in paths:
        if os.path.isdir(path):
            for directory, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in sorted(names):
                    if name.lower().endswith(POLICY_SUFFIXES + TEMPLATE_SUFFIXES):
                        out.append(FoundFile(os.path.join(directory, name), False))
        else:
            out.append(FoundFile(path, True))
    return out


def _read_text(path: str) -> str:
    """A policy document or template (a template may hold many documents: 16 times a policy's limit)."""
    from kmssmt.policy.limits import MAX_POLICY_BYTES
    from kmssmt.policy.reading import read_text_file

    return read_text_file(path, 16 * MAX_POLICY_BYTES)


def _looks_relevant(path: str, text: str) -> bool:
    from kmssmt.policy.embedded import TF_ATTRIBUTES, is_ros_template

    lower = path.lower()
    if lower.endswith(".tf"):
        return any(kind in text for kind in TF_ATTRIBUTES)
    if lower.endswith((".yaml", ".yml")):
        return is_ros_template(text)
    return "Statement" in text or is_ros_template(text)


def policies_of(path: str, explicit: bool = True) -> tuple[list[Policy], list[Finding]] | None:
    """The policies in a file and the findings about documents that could not be analysed;
    None for a file found in a directory that is not a policy or template."""
    from kmssmt.catalog import load_catalog
    from kmssmt.policy.embedded import extract, is_ros_template, parse_embedded
    from kmssmt.policy.reading import load_policy, parse_policy

    if path.startswith("system:") and not os.path.exists(path):
        name = path[len("system:"):]
        text = load_catalog().system_policy(name)
        if text is None:
            raise InputError(path, f"no system policy named {name!r}")
        return [parse_policy(text, path, name=name)], []
    lower = path.lower()
    if lower.endswith(".json") and is_snapshot_file(path):
        # An account snapshot is not a policy document: named, an input error; found in a directory, skipped.
        if explicit:
            raise InputError(path, SNAPSHOT_AMONG_POLICIES)
        return None
    if explicit and lower.endswith((".yaml", ".yml")):
        text = _read_text(path)
        if not is_ros_template(text):
            raise InputError(path, "not a ROS template (no ROSTemplateFormatVersion); policy documents are read "
                                   "as JSON only (*.json), templates as Terraform (*.tf) or ROS (*.json, *.yaml)")
        extraction = extract(text, path)
        if extraction is None:  # pragma: no cover - a .yaml file is always extracted
            return [], []
    elif explicit and lower.endswith(".json"):
        text = _read_text(path)
        extraction = extract(text, path)
        if extraction is None:
            return [load_policy(path)], []
    else:
        text = _read_text(path)
        if not explicit and not _looks_relevant(path, text):
            return None
        extraction = extract(text, path)
        if extraction is None:
            return [parse_policy(text, path)], []
    policies = [parse_embedded(doc) for doc in extraction.documents]
    return policies, list(extraction.findings)


def validate_file(path: str, options: CheckOptions | None = None, explicit: bool = True) -> FileResult | None:
    """All findings of one file (unsuppressed); None when a file found by recursion is not a policy."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    try:
        found = policies_of(path, explicit)
    except InputError as exc:
        return FileResult(path, error=exc.location_message(), seconds=time.perf_counter() - started)
    if found is None:
        return None
    policies, findings = found
    for policy in policies:
        findings.extend(run_checks(policy, options))
    findings.sort(key=lambda f: (f.span.line, f.span.column, f.id))
    return FileResult(path, tuple(findings), len(policies), time.perf_counter() - started,
                      cpu_seconds=time.process_time() - cpu_started)


@dataclass(frozen=True)
class _FileUnit:
    """One file to validate, as a worker receives it."""

    path: str
    explicit: bool
    options: CheckOptions
    root: int = 0  # the index of the path given that found the file


def _work(unit: _FileUnit) -> FileResult | None:
    return validate_file(unit.path, unit.options, unit.explicit)


def validate_paths(paths: Sequence[str], options: CheckOptions | None = None, config: Config | None = None,
                   jobs: int = 1) -> Report:
    """Validate files and directories; suppressions of `config` are applied and counted. Results come
    in file order whatever the number of `jobs`."""
    started = time.perf_counter()
    options = options or CheckOptions()
    config = config or Config()
    units = [_FileUnit(found.path, found.explicit, options, root)
             for root, path in enumerate(paths) for found in collect_files([path])]
    workers = worker_count(jobs, len(units))
    results = run_units(_work, units, jobs, initializer=_warm,
                        chunksize=max(1, min(16, len(units) // (workers * 8))))
    report = Report()
    read = {unit.root for unit, result in zip(units, results, strict=True) if result is not None}
    for root, path in enumerate(paths):
        if root not in read and os.path.isdir(path):
            report.files.append(FileResult(path, error=f"{path}: {NO_POLICY_FILES}"))
    for result in results:
        if result is None:
            continue
        report.files.append(result)
        for item in result.findings:
            reason = config.suppression(item)
            if reason is None:
                report.findings.append(item)
            else:
                report.suppressed.append(Suppressed(item, reason))
    report.seconds = time.perf_counter() - started
    return report


def _warm() -> None:
    """Load the catalog and the checks once per worker."""
    from kmssmt.catalog import load_catalog
    from kmssmt.checks import register_all_checks

    load_catalog()
    register_all_checks()
