"""The fault matrix's summary table: every fault scenario fills a row (the ``matrix``
fixture); the table is printed at the end of the session, also when pytest-xdist ran the
scenarios in worker processes (each worker hands its rows to the controller). A plugin of
the top-level conftest, so the controller, which loads no sub-directory conftest, has it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest


@dataclass
class MatrixRow:
    scenario: str
    runs: int = 0
    converged: bool | None = None
    duplicates: int | None = None
    lost: int | None = None
    note: str = ""
    seconds: float = 0.0
    outcome: str = "?"  # the test's node id until the summary puts its outcome here
    steps: list[MatrixRow] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def step(self, scenario: str) -> MatrixRow:
        """A scenario of its own inside this test (a chain of scenarios on one store)."""
        self._close_step()
        row = MatrixRow(scenario=scenario, outcome=self.outcome)
        self.steps.append(row)
        return row

    @property
    def current(self) -> MatrixRow:
        return self.steps[-1] if self.steps else self

    def _close_step(self) -> None:
        if self.steps:
            self.steps[-1].seconds = time.perf_counter() - self.steps[-1].started


ROWS: list[MatrixRow] = []
_OUTCOMES: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.outcome == "skipped" else "xpassed"
        _OUTCOMES[report.nodeid] = outcome


def _row_from(data: dict[str, Any]) -> MatrixRow:
    steps = [_row_from(step) for step in data.pop("steps", [])]
    return MatrixRow(**data, steps=steps)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller prints the table
        workeroutput["fault_matrix_rows"] = [asdict(row) for row in ROWS]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: a worker's rows, as its session ended."""
    ROWS.extend(_row_from(data) for data in node.workeroutput.get("fault_matrix_rows", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not ROWS:
        return
    for row in ROWS:
        row.outcome = _OUTCOMES.get(row.outcome, row.outcome)
    header = ("scenario", "runs", "converged", "duplicates", "lost", "s", "test", "note")

    def show(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "NO"
        if isinstance(value, float):
            return f"{value:.1f}"
        return str(value)

    keys = ("scenario", "runs", "converged", "duplicates", "lost", "seconds", "outcome", "note")
    table = [[show(getattr(row, key)) for key in keys] for row in ROWS]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(header)]
    terminalreporter.section("fault matrix")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    terminalreporter.write_line(line)
    terminalreporter.write_line("-" * len(line))
    for cells in table:
        terminalreporter.write_line(
            "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        )
    total = sum(r.seconds for r in ROWS)
    terminalreporter.write_line(f"{len(ROWS)} scenarios, {total:.0f} s in the scenarios")


@pytest.fixture
def matrix(request: pytest.FixtureRequest) -> Iterator[MatrixRow]:
    row = MatrixRow(scenario=request.node.name.removeprefix("test_"), outcome=request.node.nodeid)
    yield row
    row.seconds = time.perf_counter() - row.started
    row._close_step()
    ROWS.extend(row.steps or [row])
