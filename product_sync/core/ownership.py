"""Who owns each field of a product the sync wrote: the source, or the merchant. Pure.

Per field group (`FIELD_GROUPS`) an `Ownership`: `source` (the source wins on every run),
`create_only` (written when the product is created, the merchant's from then on) or
`ignore` (never written). By default the source owns everything but `status`: a product
the merchant set to draft stays a draft. The sync's own lifecycle is not a merchant edit:
it archives (draft + `sync_archived_at` in metadata) a product gone from the source, and
publishes it again when it comes back, under `source` and `create_only` alike.

Drift. Every write records, in the product's metadata (`sync_fields`), a short hash of
what it wrote for each group. When the index reads a product, a group whose value in the
store no longer hashes to the record was edited in the store (`store_edits`). Planning
(`reconcile`) then overwrites the edit under `source` and keeps it under `create_only`,
and reports both (`MerchantEdit`). A product written before records existed has none: it
is rewritten once, which records them.

A group plugs in by name: add a `FieldGroup` to `GROUPS` whose `read` gives the same value
for the payload the sync sends and for the Admin API row of the product it wrote (the two
have the same shape: `title`, `images[].url`, `categories[].id`, …), whose `fields` are what
the index must list to read it, and whose `strip` takes it out of a payload. A group of
`FIELD_GROUPS` without a `FieldGroup` is accepted in settings and not written by this
build's payloads (`stock` is applied by the stock step, see `sync.stock`; `sale_price` by
the sale-price step, see `sync.sale_prices`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from product_sync.core.images import IMAGES_KEY
from product_sync.core.mapping import (
    ARCHIVED_KEY,
    CATEGORY_KEY,
    CURRENCY,
    FIELDS_KEY,
    SOURCE_METADATA_KEYS,
)

SHOWN_CHARS = 120  # of a store or source value, in a report row


class Ownership(StrEnum):
    SOURCE = "source"
    CREATE_ONLY = "create_only"
    IGNORE = "ignore"


FIELD_GROUPS = (
    "title",
    "description",
    "images",
    "price",
    "sale_price",
    "category",
    "tags",
    "collection",
    "status",
    "stock",
    "metadata",
)
SOURCE, CREATE_ONLY, IGNORE = Ownership.SOURCE, Ownership.CREATE_ONLY, Ownership.IGNORE


class OwnershipPolicy(BaseModel):
    """Who owns each field group (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Ownership = SOURCE
    description: Ownership = SOURCE
    images: Ownership = SOURCE  # the image list and the thumbnail
    price: Ownership = SOURCE
    sale_price: Ownership = SOURCE
    category: Ownership = SOURCE
    tags: Ownership = SOURCE
    collection: Ownership = SOURCE
    status: Ownership = CREATE_ONLY
    stock: Ownership = SOURCE
    metadata: Ownership = SOURCE  # the source's keys (brand, rating, …), not the merchant's

    @model_validator(mode="after")
    def _title_is_written_on_create(self) -> OwnershipPolicy:
        if self.title is IGNORE:
            raise ValueError(
                "ownership.title cannot be `ignore`: Medusa needs a title to create a "
                "product; use `create_only` to keep the merchant's titles"
            )
        return self

    def of(self, group: str) -> Ownership:
        return getattr(self, group)


# -- the field groups ------------------------------------------------------------------


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


@dataclass(frozen=True)
class FieldGroup:
    name: str
    fields: tuple[str, ...]  # Admin API fields the index lists to read the group
    read: Callable[[Mapping[str, Any]], Any]  # payload or row -> a JSON-able value
    strip: Callable[[dict[str, Any], bool], None]  # (payload, creating): leave the group out
    show: Callable[[Any], str] = _show


def _pop(*keys: str, metadata: tuple[str, ...] = ()) -> Callable[[dict[str, Any], bool], None]:
    """Leave out `keys`, and the bookkeeping `metadata` keys that describe them (so an
    update does not overwrite what the store's copy says about the group)."""

    def strip(payload: dict[str, Any], creating: bool) -> None:
        for key in keys:
            payload.pop(key, None)
        for key in metadata:
            payload.get("metadata", {}).pop(key, None)

    return strip


def _images(product: Mapping[str, Any]) -> dict[str, Any]:
    urls = [image["url"] for image in product["images"] or []]
    # Medusa makes the first image the thumbnail of a product created without one.
    return {"thumbnail": product.get("thumbnail") or (urls[0] if urls else None), "urls": urls}


def _show_images(value: Mapping[str, Any]) -> str:
    return _show(f"{len(value['urls'])} images, thumbnail {value['thumbnail']}")


def _prices(product: Mapping[str, Any]) -> list[str]:
    variants = product["variants"] or []
    return sorted(
        str(Decimal(str(price["amount"])).quantize(Decimal("0.01")))
        for price in (variants[0].get("prices") or [] if variants else [])
        if price.get("currency_code") == CURRENCY and price.get("amount") is not None
    )


def _strip_prices(payload: dict[str, Any], creating: bool) -> None:
    for variant in payload.get("variants") or []:
        if creating:
            variant["prices"] = []  # Medusa requires the list on create; empty is allowed
        else:
            variant.pop("prices", None)


def _source_metadata(product: Mapping[str, Any]) -> dict[str, Any]:
    metadata = product["metadata"] or {}
    # Medusa drops a key set to "": read both as absent.
    return {
        key: metadata.get(key) if metadata.get(key) != "" else None for key in SOURCE_METADATA_KEYS
    }


def _strip_metadata(payload: dict[str, Any], creating: bool) -> None:
    for key in SOURCE_METADATA_KEYS:
        payload.get("metadata", {}).pop(key, None)


def _show_metadata(value: Mapping[str, Any]) -> str:
    return _show({k: v for k, v in value.items() if v is not None})


GROUPS: dict[str, FieldGroup] = {
    group.name: group
    for group in (
        FieldGroup("title", ("title",), lambda p: p["title"], _pop("title")),
        FieldGroup(
            "description", ("description",), lambda p: p["description"] or "", _pop("description")
        ),
        FieldGroup(
            "images",
            ("thumbnail", "images.url"),
            _images,
            _pop("images", "thumbnail", metadata=(IMAGES_KEY,)),
            _show_images,
        ),
        FieldGroup(
            "price",
            ("variants.prices.amount", "variants.prices.currency_code"),
            _prices,
            _strip_prices,
            lambda v: ", ".join(v) or "(none)",
        ),
        FieldGroup(
            "category",
            ("categories.id",),
            lambda p: sorted(c["id"] for c in p["categories"] or []),
            _pop("categories", metadata=(CATEGORY_KEY,)),
            lambda v: ", ".join(v) or "(none)",
        ),
        # Tags and the brand collection, as ids. A payload leaves a key out while its ids
        # are not all known (`core.taxonomy`): that group is then neither written nor judged.
        FieldGroup(
            "tags",
            ("tags.id",),
            lambda p: sorted(t["id"] for t in p["tags"] or []),
            _pop("tags"),
            lambda v: ", ".join(v) or "(none)",
        ),
        FieldGroup(
            "collection",
            ("collection_id",),
            lambda p: p["collection_id"],
            _pop("collection_id"),
            lambda v: v or "(none)",
        ),
        FieldGroup("status", ("status",), lambda p: p["status"], _pop("status")),
        FieldGroup("metadata", ("metadata",), _source_metadata, _strip_metadata, _show_metadata),
    )
}
# What the index must list to see every group's value in the store.
INDEX_FIELDS = tuple(dict.fromkeys(f for group in GROUPS.values() for f in group.fields))


def value_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# -- what the sync wrote, and what the store holds now ----------------------------------


def parse_record(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """The `sync_fields` record a product carries (empty: none, or unreadable)."""
    raw = (metadata or {}).get(FIELDS_KEY)
    if not isinstance(raw, dict):
        return {}
    return {
        k: v for k, v in raw.items() if k in FIELD_GROUPS and isinstance(v, str) and v.isalnum()
    }


def pack_record(record: Mapping[str, str]) -> str | None:
    """A record as one short string: the index holds one per product."""
    return ";".join(f"{k}={v}" for k, v in sorted(record.items())) or None


def unpack_record(packed: str | None) -> dict[str, str]:
    return dict(item.split("=", 1) for item in packed.split(";")) if packed else {}


class StoreValue(BaseModel):
    """A group's value in the store, where it differs from what the sync last wrote."""

    model_config = ConfigDict(frozen=True)

    hash: str
    shown: str


def store_edits(product: Mapping[str, Any]) -> dict[str, StoreValue] | None:
    """The groups of a listed product (an Admin API row) edited in the store since the sync
    wrote them; None when there are none. Groups the row does not list are not judged,
    and neither is the status of a product the sync archived itself."""
    metadata = product.get("metadata") or {}
    record = parse_record(metadata)
    edits: dict[str, StoreValue] = {}
    for name, group in GROUPS.items():
        if name not in record or (name == "status" and metadata.get(ARCHIVED_KEY)):
            continue
        try:
            value = group.read(product)
        except (KeyError, TypeError):
            continue  # not in this listing's fields
        held = value_hash(value)
        if held != record[name]:
            edits[name] = StoreValue(hash=held, shown=group.show(value))
    return edits or None


# -- planning ----------------------------------------------------------------------------


class MerchantEdit(BaseModel):
    """A field of one of our products edited in the store, and what the sync did with it."""

    model_config = ConfigDict(frozen=True)

    source_id: int
    external_id: str
    handle: str
    field: str
    store_value: str
    source_value: str
    action: Literal["overwritten", "kept"]


_ABSENT = object()


def _carried(group: FieldGroup, payload: Mapping[str, Any]) -> Any:
    """The group's value in a payload, or `_ABSENT` when the payload does not carry it."""
    try:
        return group.read(payload)
    except KeyError:
        return _ABSENT


def for_create(payload: dict[str, Any], policy: OwnershipPolicy) -> dict[str, Any]:
    """A create payload without the ignored groups, recording what it writes."""
    record = {}
    for name, group in GROUPS.items():
        if policy.of(name) is IGNORE:
            group.strip(payload, True)
        elif (value := _carried(group, payload)) is not _ABSENT:
            record[name] = value_hash(value)
    payload["metadata"][FIELDS_KEY] = record
    return payload


class Reconciled(BaseModel):
    payload: dict[str, Any]
    rewrite: bool  # a group the source owns differs in the store, or was never recorded
    edits: list[MerchantEdit] = []


def reconcile(
    update: dict[str, Any],
    policy: OwnershipPolicy,
    *,
    source_id: int,
    handle: str,
    record: Mapping[str, str],
    edits: Mapping[str, StoreValue] | None,
    archived: bool,
) -> Reconciled:
    """An update payload (the source's full desired state) cut to the groups the sync
    owns, with the record of what it then holds, and the store's edits judged.

    `record` is what the sync last wrote (`sync_fields`); `edits` the groups the store
    holds otherwise (`store_edits`); `archived`: the sync archived this product itself, so
    its status is the sync's to restore (under `create_only` too).
    """
    edits = edits or {}
    new_record: dict[str, str] = {}
    rewrite = False
    found: list[MerchantEdit] = []
    for name, group in GROUPS.items():
        value = _carried(group, update)
        if value is _ABSENT:  # not sent: the store keeps it, and the record what it said
            if name in record:
                new_record[name] = record[name]
            continue
        wanted = value_hash(value)
        owner = policy.of(name)
        if name == "status" and owner is CREATE_ONLY and archived:
            owner = SOURCE  # the sync's own archive is undone by the sync
        edit = edits.get(name)
        differs = edit is not None and edit.hash != wanted
        if owner is SOURCE:
            new_record[name] = wanted
            rewrite = rewrite or differs or record.get(name) != wanted
        else:
            group.strip(update, False)
            if owner is CREATE_ONLY and name in record:
                new_record[name] = record[name]  # still what the sync wrote, on create
        if differs and owner is not IGNORE:
            assert edit is not None
            found.append(
                MerchantEdit(
                    source_id=source_id,
                    external_id=update["external_id"],
                    handle=handle,
                    field=name,
                    store_value=edit.shown,
                    source_value=group.show(value),
                    action="overwritten" if owner is SOURCE else "kept",
                )
            )
    update["metadata"][FIELDS_KEY] = new_record
    return Reconciled(payload=update, rewrite=rewrite, edits=found)
