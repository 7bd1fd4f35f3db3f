"""What the operator is told, as plain text: the alerts POSTed as `{"text": ...}` (Slack's
incoming-webhook shape, which Mattermost, Rocket.Chat and most chat tools accept) and the
message a crashed run is failed with. Pure: the sensors gather the facts, this words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# A chat message, not a log: long errors are cut (the run link leads to the rest).
MAX_TEXT_CHARS = 3000
MAX_ERROR_CHARS = 300
MAX_LISTED = 5
# The sync report's numbers worth a line in an alert, in this order.
COUNT_KEYS = (
    "created",
    "updated",
    "unchanged",
    "archived",
    "quarantined",
    "errors",
    "stock_updated",
)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class StepFailure:
    step: str
    error: str


@dataclass(frozen=True)
class FailedRun:
    job: str
    run_id: str
    message: str
    steps: list[StepFailure] = field(default_factory=list)
    counts: dict[str, float] = field(default_factory=dict)
    product_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    counts: dict[str, float] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    description: str | None = None


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def first_line(text: str | None, limit: int = MAX_ERROR_CHARS) -> str:
    line = next((s.strip() for s in (text or "").splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def sync_counts(metadata: Mapping[str, Any]) -> dict[str, float]:
    """The report numbers among one materialization's metadata values (raw values, not
    Dagster's wrappers); anything else is ignored."""
    return {
        key: metadata[key]
        for key in COUNT_KEYS
        if isinstance(metadata.get(key), int | float) and not isinstance(metadata[key], bool)
    }


def add_counts(totals: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Sums per key, e.g. the ranges of a scaled-out run."""
    summed: dict[str, float] = {}
    for counts in totals:
        for key, value in counts.items():
            summed[key] = summed.get(key, 0) + value
    return {key: summed[key] for key in COUNT_KEYS if key in summed}


def _numbers(counts: Mapping[str, float]) -> str:
    return ", ".join(f"{key} {_number(value)}" for key, value in counts.items())


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def run_failure_text(run: FailedRun, ui_url: str) -> str:
    lines = [
        f"product_sync: a {run.job} run failed",
        f"Run: {run_url(ui_url, run.run_id)}",
    ]
    if run.product_ids:
        shown = ", ".join(str(i) for i in run.product_ids[:MAX_LISTED])
        more = (
            f" (+{len(run.product_ids) - MAX_LISTED} more)"
            if len(run.product_ids) > MAX_LISTED
            else ""
        )
        lines.append(f"Targeted product ids: {shown}{more}")
    lines.append(f"What failed: {first_line(run.message) or 'the run (no message)'}")
    for failure in run.steps[:MAX_LISTED]:
        lines.append(f"- step {failure.step}: {first_line(failure.error) or 'no error message'}")
    if len(run.steps) > MAX_LISTED:
        lines.append(f"- and {len(run.steps) - MAX_LISTED} more failed steps")
    counts = {"failed steps": len(run.steps), **run.counts}
    lines.append(f"Counts: {_numbers(counts)}")
    return _cap("\n".join(lines))


def check_failure_text(job: str, run_id: str, checks: list[FailedCheck], ui_url: str) -> str:
    noun = "check" if len(checks) == 1 else "checks"
    lines = [
        f"product_sync: {len(checks)} blocking {noun} failed in a {job} run;"
        " downstream assets were not materialized",
        f"Run: {run_url(ui_url, run_id)}",
    ]
    for check in checks:
        detail = f" ({_numbers(check.counts)})" if check.counts else ""
        lines.append(f"- {check.asset} / {check.check}{detail}")
        if check.description:
            lines.append(f"  {first_line(check.description)}")
        if check.examples:
            lines.append(f"  e.g. {', '.join(check.examples[:MAX_LISTED])}")
    return _cap("\n".join(lines))


def crashed_worker_text(job: str, pid: int) -> str:
    """Why a run was failed from outside: its event log and its failure say the same."""
    return (
        f"The run worker of this {job} run (pid {pid}) is gone: it ended without reporting"
        " an outcome (killed, e.g. by the OOM killer, a host restart or a SIGKILL of the"
        f" Dagster process group). Marked failed so the next queued sync can start; rerun"
        " it if it is still needed."
    )


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Every occurrence of each (non-trivial) secret value replaced."""
    for secret in sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def payload(text: str) -> dict[str, str]:
    return {"text": text}


def _cap(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"
