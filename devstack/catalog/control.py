"""A small stdlib client for the ``/__control`` API of a catalog server running in another
process (tests of the pipeline use it to mutate the source and inject faults)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ControlError(RuntimeError):
    pass


class CatalogControl:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}/__control/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise ControlError(f"{method} /__control/{route}: {error.read().decode()}") from None

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")

    def mutate(self, op: str, **params: Any) -> dict[str, Any]:
        return self._call("POST", "mutate", {"op": op, **params})

    def set_faults(self, rules: list[dict[str, Any]] | None = None, seed: int = 0) -> dict:
        return self._call("POST", "faults", {"seed": seed, "rules": list(rules or [])})

    def clear_faults(self) -> dict[str, Any]:
        return self.set_faults([])

    def reset(self, **settings: Any) -> dict[str, Any]:
        return self._call("POST", "reset", settings)
