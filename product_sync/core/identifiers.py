"""Variant identifiers Medusa keeps unique store-wide: who may hold each one. Pure.

The SKU is the product's identity: a record claiming a SKU another product holds is
quarantined (it cannot be told apart from that product). A barcode is secondary: a clash
on it costs the record only its barcode, and the product syncs without one, reported.

Who holds a value: a product keeps one it already holds in the store and still claims in
the source (so a clash never moves a barcode from one product to another); among the rest,
the lowest source id. A product of ours outside the planned scope (another range, the
ids a targeted sync did not ask for, an archived one) holds what it holds in the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from product_sync.core.models import Quarantined

IDENTITY = ("sku",)
SECONDARY = ("barcode",)


class DroppedIdentifier(BaseModel):
    """A secondary identifier a record was synced without, because another holds it."""

    model_config = ConfigDict(frozen=True)

    source_id: int
    field: str
    value: str
    held_by: int


Claims = Mapping[str, str | None]  # identifier field -> value


def settle_identifiers(
    source: Iterable[tuple[int, Claims]], store: Iterable[tuple[int, Claims]]
) -> tuple[list[Quarantined], list[DroppedIdentifier]]:
    """Who keeps each SKU and barcode. `source`: (source id, claims) of the records being
    planned; `store`: (source id, values held) of our products in the store."""
    claims = dict(source)
    holders: dict[tuple[str, str], int] = {}
    for source_id, held in sorted(store, key=lambda item: item[0]):
        for kind in (*IDENTITY, *SECONDARY):
            value = held.get(kind)
            # A product planned now holds only what it still claims (updates are written
            # before creates, so a value it gives up is free for another).
            if value and (source_id not in claims or claims[source_id].get(kind) == value):
                holders.setdefault((kind, value), source_id)
    refused: list[Quarantined] = []
    dropped: list[DroppedIdentifier] = []
    for source_id, claimed in sorted(claims.items()):
        clash = next(
            (
                (kind, value)
                for kind in IDENTITY
                if (value := claimed.get(kind))
                and holders.get((kind, value), source_id) != source_id
            ),
            None,
        )
        if clash:
            kind, value = clash
            refused.append(
                Quarantined(
                    source_id=source_id,
                    reason=f"{kind} {value!r} is also used by product {holders[clash]}",
                    field=kind,
                )
            )
            continue
        for kind in (*IDENTITY, *SECONDARY):
            value = claimed.get(kind)
            if not value:
                continue
            holder = holders.setdefault((kind, value), source_id)
            if holder != source_id:
                dropped.append(
                    DroppedIdentifier(source_id=source_id, field=kind, value=value, held_by=holder)
                )
    return refused, dropped
