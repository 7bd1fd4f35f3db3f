"""Product handles: URL slugs that must be unique across the whole store.

Handles are part of storefront URLs, so once a product has one it keeps it; a new product
takes the slug of its title, or the first free `-1`, `-2`… variant of it, and never one
that any other product in the store (ours or not) already holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from slugify import slugify

MAX_HANDLE_CHARS = 120


def slug(title: str) -> str:
    """The pinned slug function: lowercase ASCII words joined by `-`.

    Apostrophes vanish ("Men's" -> "mens") rather than splitting a word, `&` and other
    punctuation separate words, and non-ASCII is transliterated ("Crème" -> "creme").
    """
    return slugify(
        title,
        max_length=MAX_HANDLE_CHARS,
        word_boundary=True,
        replacements=[["'", ""], ["\u2019", ""]],
    )


def base_handle(source_id: int, title: str) -> str:
    return slug(title) or f"product-{source_id}"


def assign_handles(
    new_products: Iterable[tuple[int, str]],
    taken: Set[str],
) -> dict[int, str]:
    """Give each new (source id, title) a free handle.

    Products are served in source-id order so the outcome depends only on the inputs, not
    on the order pages arrived in: the lowest id gets the bare slug, the next `-1`, …
    `taken` holds every handle already in use in the store or assigned to a kept product.
    """
    used = set(taken)
    assigned: dict[int, str] = {}
    for source_id, title in sorted(new_products):
        base = base_handle(source_id, title)
        handle, suffix = base, 0
        while handle in used:
            suffix += 1
            handle = f"{base}-{suffix}"
        used.add(handle)
        assigned[source_id] = handle
    return assigned


def duplicates(handles: Mapping[str, str]) -> dict[str, list[str]]:
    """Handles held by more than one key (e.g. external id), for the duplicate check."""
    holders: dict[str, list[str]] = {}
    for key, handle in handles.items():
        holders.setdefault(handle, []).append(key)
    return {handle: keys for handle, keys in holders.items() if len(keys) > 1}
