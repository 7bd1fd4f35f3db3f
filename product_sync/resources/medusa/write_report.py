"""What product writes report, and what one attempt at a batch leaves to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Batch = Sequence[dict[str, Any]]


@dataclass
class WriteError:
    external_ids: list[str]
    message: str


@dataclass
class WriteReport:
    created: int = 0
    updated: int = 0
    errors: list[WriteError] = field(default_factory=list)
    # A create that landed although its request failed (e.g. timed out), found by lookup.
    recovered: int = 0
    # Variants left half-created by a crash inside Medusa, deleted and created again.
    repaired: int = 0
    # External id -> inventory item id of the written products' variants, as the write
    # answers named them (products whose variant was rebuilt afterwards are left out).
    inventory_items: dict[str, str] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(len(e.external_ids) for e in self.errors)

    def merge(self, other: WriteReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.errors.extend(other.errors)
        self.recovered += other.recovered
        self.repaired += other.repaired
        self.inventory_items.update(other.inventory_items)


@dataclass
class BatchOutcome:
    """What one attempt at a batch settled, and the smaller batches still to send (in the
    order they are to be sent)."""

    report: WriteReport
    resend: list[Batch] = field(default_factory=list)
