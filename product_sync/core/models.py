"""Pydantic models for what flows through the pipeline.

Source records are validated strictly enough that anything Medusa would reject, or that
would price a product wrongly, is caught here and quarantined with a reason instead of
failing a batch later.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.dataclasses import dataclass

MAX_TITLE_CHARS = 255
MAX_DESCRIPTION_CHARS = 5_000
MAX_PRICE = Decimal("1000000")  # a seven-figure price is a data error, not a product
MAX_IMAGES = 20

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CATEGORY_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

Number = StrictInt | StrictFloat  # JSON ints where floats are usual are fine; strings are not


def _finite(value: float | int | None) -> float | int | None:
    if value is not None and isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _check_url(value: str) -> str:
    # Keep the URL exactly as the source wrote it (quotes and ampersands included):
    # normalising it would change the stored image list and the content hash.
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in parts.netloc:
        raise ValueError(f"not an http(s) URL: {value[:80]!r}")
    return value


# The source's records are held whole for a run (10k products and more), so they are
# slotted dataclasses validated by pydantic: a BaseModel instance also carries a __dict__
# and a set of the fields it was given, which is most of its size (4.2 KB -> 1.6 KB each).
_RECORD = ConfigDict(extra="ignore")


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class Dimensions:
    width: Number | None = None
    height: Number | None = None
    depth: Number | None = None

    _finite = field_validator("width", "height", "depth")(_finite)


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class SourceMeta:
    createdAt: str | None = None
    updatedAt: str | None = None
    barcode: str | None = None
    qrCode: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class SourceProduct:
    """One DummyJSON product, as far as the sync relies on it."""

    id: Annotated[StrictInt, Field(gt=0)]
    title: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
    description: Annotated[StrictStr, Field(max_length=MAX_DESCRIPTION_CHARS)] = ""
    category: StrictStr
    price: Decimal
    discountPercentage: Number | None = None
    rating: Number | None = None
    stock: Annotated[StrictInt, Field(ge=0)] = 0
    tags: list[StrictStr] = Field(default_factory=list)
    brand: StrictStr | None = None
    sku: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = None
    weight: Number | None = None
    dimensions: Dimensions | None = None
    warrantyInformation: StrictStr | None = None
    shippingInformation: StrictStr | None = None
    availabilityStatus: StrictStr | None = None
    returnPolicy: StrictStr | None = None
    minimumOrderQuantity: StrictInt | None = None
    meta: SourceMeta | None = None
    images: Annotated[list[StrictStr], Field(max_length=MAX_IMAGES)] = Field(default_factory=list)
    thumbnail: StrictStr | None = None

    @field_validator("title")
    @classmethod
    def _title_is_printable(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title is blank")
        if _CONTROL_CHARS.search(value) or "\n" in value or "\r" in value or "\t" in value:
            raise ValueError("title contains control characters")
        return value.strip()

    @field_validator("description")
    @classmethod
    def _description_is_printable(cls, value: str) -> str:
        if _CONTROL_CHARS.search(value):
            raise ValueError("description contains control characters")
        return value

    @field_validator("category")
    @classmethod
    def _category_is_a_slug(cls, value: str) -> str:
        if not _CATEGORY_SLUG.match(value):
            raise ValueError(f"category is not a slug: {value[:60]!r}")
        return value

    @field_validator("price", mode="before")
    @classmethod
    def _price_is_a_json_number(cls, value: Any) -> Decimal:
        # Strings ("12.50") and booleans are rejected rather than coerced: a source that
        # changes a price's type has changed its contract, and a guessed price is worse
        # than a product left as it was.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"price must be a number, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("price must be finite")
        # str() of a float is its shortest round-trip form: 9.99 -> Decimal("9.99"), exactly.
        price = Decimal(str(value))
        if price < 0:
            raise ValueError("price is negative")
        if price >= MAX_PRICE:
            raise ValueError(f"price {price} is implausibly large")
        if price.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError(f"price {price} has more than two decimals")
        return price

    @field_validator("images")
    @classmethod
    def _images_are_urls(cls, value: list[str]) -> list[str]:
        return [_check_url(url) for url in value]

    @field_validator("thumbnail")
    @classmethod
    def _thumbnail_is_a_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    _finite_numbers = field_validator("discountPercentage", "rating", "weight")(_finite)

    @classmethod
    def model_validate(cls, record: Any) -> SourceProduct:
        return _SOURCE_PRODUCT.validate_python(record)


_SOURCE_PRODUCT = TypeAdapter(SourceProduct)


class Quarantined(BaseModel):
    """A source record the sync refused, kept with the reason so nothing is lost silently."""

    model_config = ConfigDict(frozen=True)

    source_id: Any = None
    reason: str
    field: str | None = None  # the field at fault, where one is
    record: dict[str, Any] | None = None


class Category(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str
    name: str


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, field first, without echoing large input values."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(loc) for loc in item["loc"]) or "record"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
