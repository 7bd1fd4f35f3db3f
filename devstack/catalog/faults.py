"""Runtime-switchable fault injection, deterministic under a seed.

A configuration is a seed plus an ordered list of rules. Requests are numbered per target
(``api``: the /products and /product routes; ``images``: /product-images), starting at 1
after each (re)configuration, and whether a rule fires for request *n* is a pure function
of ``(seed, target, n, rule index)``: the same sequence of requests meets the same faults.

Every condition a rule states must hold for it to fire:

- ``rate``: probability in [0, 1] (seeded draw per request)
- ``requests``: explicit request numbers, e.g. ``[2, 5]``
- ``every``: every n-th request
- ``after``: only requests numbered above this
- ``times``: fire at most this many times
- ``path``: only request paths starting with this prefix

The first firing rule of a response kind decides the response; ``mutate`` rules are side
effects (they change the catalog before the request is answered) and never stop the scan.

Kinds and their options:

- ``error``: answer with a status from ``statuses`` (default 500, 502, 503)
- ``rate_limit``: 429 with ``Retry-After: <retry_after>`` (default 1 second)
- ``slow``: sleep ``seconds`` (default 5) before answering normally
- ``truncate``: cut the body to ``keep`` (default 0.5) of its bytes. ``mode`` "honest"
  (default) sends a Content-Length that matches the cut body, so the client receives a
  complete 200 whose JSON does not parse, as from a cache that stored a truncated object.
  "cut" declares the full length, sends part of the body and closes the connection: what a
  proxy does when its upstream dies mid-response; clients see an incomplete read.
- ``reset``: close the socket with SO_LINGER 0 before answering, so the client gets a
  TCP RST (ConnectionResetError)
- ``mutate``: apply ``mutation`` (a ``Catalog.mutate`` request such as
  ``{"op": "add", "count": 1}``), e.g. to change ``total`` between pages
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from devstack.catalog.mutations import MUTATION_OPS

RESPONSE_KINDS = ("error", "rate_limit", "slow", "truncate", "reset")
KINDS = (*RESPONSE_KINDS, "mutate")
TARGETS = ("api", "images")


class FaultConfigError(ValueError):
    pass


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float | None = None
    requests: tuple[int, ...] = ()
    every: int | None = None
    after: int = 0
    times: int | None = None
    path: str | None = None
    target: str = "api"
    statuses: tuple[int, ...] = (500, 502, 503)
    retry_after: int = 1
    seconds: float = 5.0
    mode: str = "honest"
    keep: float = 0.5
    mutation: dict[str, Any] | None = field(default=None, hash=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        if not isinstance(data, dict):
            raise FaultConfigError("a rule must be an object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise FaultConfigError(f"unknown rule keys: {', '.join(sorted(unknown))}")
        values = dict(data)
        for key in ("requests", "statuses"):
            if key in values:
                values[key] = tuple(values[key])
        rule = cls(**values)
        rule._validate()
        return rule

    def _validate(self) -> None:
        if self.kind not in KINDS:
            raise FaultConfigError(f"unknown kind {self.kind!r}; expected one of {KINDS}")
        if self.target not in TARGETS:
            raise FaultConfigError(f"target must be one of {TARGETS}")
        if self.rate is not None and not 0 <= self.rate <= 1:
            raise FaultConfigError("rate must be between 0 and 1")
        if self.mode not in ("honest", "cut"):
            raise FaultConfigError("truncate mode must be 'honest' or 'cut'")
        if not 0 <= self.keep < 1:
            raise FaultConfigError("keep must be in [0, 1)")
        if self.kind == "error" and not self.statuses:
            raise FaultConfigError("error rule needs at least one status")
        if self.kind == "mutate" and (
            not isinstance(self.mutation, dict) or self.mutation.get("op") not in MUTATION_OPS
        ):
            raise FaultConfigError(f"mutate rule needs a 'mutation' with an op in {MUTATION_OPS}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        defaults = FaultRule(kind=self.kind)
        return {k: v for k, v in data.items() if k == "kind" or v != getattr(defaults, k)}


@dataclass
class FaultDecision:
    number: int
    fault: FaultRule | None = None
    status: int | None = None
    mutations: list[dict[str, Any]] = field(default_factory=list)


class FaultInjector:
    """Holds the active rules and the counters; thread-safe."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or {})

    def configure(self, config: dict[str, Any]) -> None:
        """Replace the rules (``{"seed": int, "rules": [...]}``); ``{}`` turns faults off.
        Request numbering and counters restart, so schedules are relative to this call."""
        if not isinstance(config, dict):
            raise FaultConfigError("fault config must be an object")
        unknown = set(config) - {"seed", "rules"}
        if unknown:
            raise FaultConfigError(f"unknown fault config keys: {', '.join(sorted(unknown))}")
        seed = config.get("seed", 0)
        rules = tuple(FaultRule.from_dict(rule) for rule in config.get("rules", []))
        with self._lock:
            self.seed = seed
            self.rules = rules
            self._requests: Counter[str] = Counter()
            self._injected: Counter[str] = Counter()
            self._fired = [0] * len(rules)

    def config(self) -> dict[str, Any]:
        with self._lock:
            return {"seed": self.seed, "rules": [rule.to_dict() for rule in self.rules]}

    def _fires(self, index: int, rule: FaultRule, target: str, number: int, path: str) -> bool:
        if rule.target != target or (rule.path and not path.startswith(rule.path)):
            return False
        if rule.times is not None and self._fired[index] >= rule.times:
            return False
        if number <= rule.after or (rule.requests and number not in rule.requests):
            return False
        if rule.every and number % rule.every:
            return False
        if rule.rate is not None:
            draw = random.Random(f"{self.seed}:{target}:{number}:{index}").random()
            return draw < rule.rate
        return True

    def decide(self, target: str, path: str) -> FaultDecision:
        with self._lock:
            self._requests[target] += 1
            decision = FaultDecision(number=self._requests[target])
            for index, rule in enumerate(self.rules):
                if rule.kind != "mutate" and decision.fault is not None:
                    continue
                if not self._fires(index, rule, target, decision.number, path):
                    continue
                self._fired[index] += 1
                self._injected[rule.kind] += 1
                if rule.kind == "mutate":
                    assert rule.mutation is not None
                    decision.mutations.append(dict(rule.mutation))
                    continue
                decision.fault = rule
                if rule.kind == "error":
                    pick = random.Random(f"{self.seed}:{target}:{decision.number}:{index}:s")
                    decision.status = pick.choice(rule.statuses)
            return decision

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "rules": [rule.to_dict() for rule in self.rules],
                "requests": {target: self._requests[target] for target in TARGETS},
                "injected": {kind: self._injected[kind] for kind in KINDS},
                "fired": list(self._fired),
            }
