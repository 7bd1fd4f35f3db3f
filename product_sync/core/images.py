"""Source image URL -> the copy in the store's file storage. Pure bookkeeping.

Uploaded copies are remembered in each product's metadata (`sync_images`), keyed by the
source URL, with the content hash and the ETag the source gave. That lets the next run ask
the source "changed since?" and reuse a copy whose bytes it already holds, so a second run
uploads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

IMAGES_KEY = "sync_images"


class StoredImage(BaseModel):
    model_config = ConfigDict(frozen=True)

    sha256: str
    url: str
    etag: str | None = None


def parse_stored(metadata: Mapping[str, Any] | None) -> dict[str, StoredImage]:
    """The `sync_images` a product carries; anything unreadable is simply not reused."""
    raw = (metadata or {}).get(IMAGES_KEY)
    if not isinstance(raw, dict):
        return {}
    stored = {}
    for source_url, value in raw.items():
        try:
            stored[source_url] = StoredImage.model_validate(value)
        except ValidationError:
            continue
    return stored


def source_urls(images: Iterable[str], thumbnail: str | None) -> list[str]:
    return list(dict.fromkeys([*images, *([thumbnail] if thumbnail else [])]))


def stored_for(urls: Iterable[str], resolved: Mapping[str, StoredImage]) -> dict[str, Any]:
    """What one product's metadata records about its images."""
    return {url: resolved[url].model_dump() for url in urls if url in resolved}
