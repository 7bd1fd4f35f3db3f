"""Source-id ranges: how a scaled-out sync cuts the catalog into parts. Pure.

A range is closed ("1-10000") except the last, which is open ("90001-") so that products
added after the ranges were drawn still belong to one. Every positive id falls in exactly
one range, so no two parts ever plan the same product.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class IdRange(BaseModel):
    model_config = ConfigDict(frozen=True)

    lo: int
    hi: int | None = None  # None: no upper end

    @property
    def key(self) -> str:
        return f"{self.lo}-{self.hi if self.hi is not None else ''}"

    @property
    def mapping_key(self) -> str:
        """The key in the form Dagster's dynamic outputs accept ([A-Za-z0-9_])."""
        return f"ids_{self.lo}_{self.hi if self.hi is not None else 'up'}"

    def __contains__(self, source_id: object) -> bool:
        return (
            isinstance(source_id, int)
            and source_id >= self.lo
            and (self.hi is None or source_id <= self.hi)
        )


def id_ranges(max_id: int, range_size: int, count: int = 0) -> list[IdRange]:
    """Ranges covering ids 1..max_id and beyond: `count` ranges of equal width if given,
    else ranges of `range_size` ids. The last range is always open-ended."""
    if range_size < 1 or count < 0:
        raise ValueError("range_size must be positive and count not negative")
    if count:
        range_size = max(1, -(-max(max_id, 1) // count))
    ranges = []
    lo = 1
    while lo + range_size <= max_id:
        ranges.append(IdRange(lo=lo, hi=lo + range_size - 1))
        lo += range_size
    ranges.append(IdRange(lo=lo, hi=None))
    return ranges
