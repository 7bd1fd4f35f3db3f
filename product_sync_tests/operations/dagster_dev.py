"""`dagster dev` (webserver, daemon, code server) as a subprocess group on a temporary
DAGSTER_HOME, with a small GraphQL client: how an operator runs it, and how it crashes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from product_sync_tests.operations.instance_home import REPO_ROOT

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class DagsterDev:
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    location: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DagsterDev:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    *(str(BIN / "dagster"), "dev", "-w", "workspace.yaml"),
                    *("-h", "127.0.0.1", "-p", str(self.port)),
                ],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.location = self.wait("the code location to load", self._loaded, START_TIMEOUT_S)
        return self

    def _loaded(self) -> str | None:
        query = """{ workspaceOrError { ... on Workspace { locationEntries {
            name locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
        entries = self.graphql(query)["workspaceOrError"]["locationEntries"]
        for entry in entries:
            kind = (entry["locationOrLoadError"] or {}).get("__typename")
            if kind == "PythonError":
                pytest.fail(f"code location failed to load: {entry}", pytrace=False)
            if kind == "RepositoryLocation":
                return entry["name"]
        return None

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def launch(self, job: str) -> str:
        """Launch as the UI's launchpad does: through the run queue."""
        mutation = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
            __typename ... on LaunchRunSuccess { run { runId } }
            ... on PythonError { message } ... on InvalidSubsetError { message }
            ... on RunConfigValidationInvalid { errors { message } } } }"""
        params = {
            "selector": {
                "repositoryLocationName": self.location,
                "repositoryName": "__repository__",
                "jobName": job,
            },
            "runConfigData": {},
        }
        result = self.graphql(mutation, params=params)["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def sensor_ticks(self, sensor: str) -> int:
        query = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
            ... on Sensor { sensorState { ticks(limit: 5) { status } } } } }"""
        selector = {
            "repositoryLocationName": self.location,
            "repositoryName": "__repository__",
            "sensorName": sensor,
        }
        found = self.graphql(query, selector=selector)["sensorOrError"]
        return len(found["sensorState"]["ticks"])

    def wait(self, what: str, probe: Callable[[], Any], timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"dagster dev exited ({self.process.returncode}):\n{tail(self.log)}")
            try:
                value = probe()
            except requests.RequestException as error:
                value, last = None, error
            if value:
                return value
            time.sleep(0.5)
        pytest.fail(
            f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})\n"
            f"{tail(self.log)}",
            pytrace=False,
        )

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as the OOM killer or a host crash
        would: nothing gets to clean up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.kill()
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=60)
        self.kill()
