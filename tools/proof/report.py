"""The proof's table: figures with the number of cases tried and a verdict, as
markdown, printed and written to reports/proof-<date>.md and reports/proof-latest.md."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Row:
    area: str
    figure: str
    value: object
    cases: object = ""
    target: str = ""  # e.g. "= 0"; empty for a measured figure
    note: str = ""

    @property
    def verdict(self) -> str:
        if not self.target:
            return ""
        if self.value is None:
            return "FAIL"
        op, _, bound_text = self.target.partition(" ")
        value, bound = float(str(self.value)), float(bound_text)
        ok = {"=": value == bound, "<=": value <= bound, ">=": value >= bound}[op]
        return "ok" if ok else "FAIL"


def fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[Row]) -> list[str]:
    lines = ["| area | figure | value | cases | target | verdict | note |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        note = str(r.note).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.area} | {r.figure} | {fmt(r.value)} | {fmt(r.cases)} | {r.target} | {r.verdict} | {note} |")
    return lines


def commit(repo: Path) -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True).stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    return sha + (
        " (working tree with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    )


def render(
    rows: list[Row],
    started: datetime,
    seconds: float,
    repo: Path,
    machine: str,
    notes: list[str],
    command: str = "make proof",
) -> str:
    failed = [r for r in rows if r.verdict == "FAIL"]
    lines = [
        f"# Proof under fire ({started.isoformat(timespec='seconds')}, commit {commit(repo)})",
        "",
        f"`{command}`, {seconds / 60:.1f} min on {machine}. "
        f"Verdict: {'every target met' if not failed else f'{len(failed)} target(s) missed'}.",
        "",
        *table(rows),
        "",
    ]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)


def write(text: str, repo: Path, started: datetime, name: str = "proof") -> Path:
    """reports/<name>-<date>.md and reports/<name>-latest.md (``proof-cluster`` for the cluster run)."""
    reports = repo / "reports"
    reports.mkdir(exist_ok=True)
    dated = reports / f"{name}-{started.astimezone(UTC):%Y-%m-%d}.md"
    dated.write_text(text)
    (reports / f"{name}-latest.md").write_text(text)
    return dated


def now() -> datetime:
    return datetime.now(UTC)
