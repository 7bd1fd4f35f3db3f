"""DummyJSON's query handling, reproduced with JavaScript's value semantics.

DummyJSON runs on Express: query values are strings, validated with ``Number(x)`` and then
read with ``parseInt(x, 10)``, and sorting compares with ``<``/``>``. The two functions
disagree on many inputs (``"1e2"`` is a number but parses to 1; ``""`` is a number but
parses to NaN), and those disagreements are the documented quirks, so both are emulated
here rather than approximated with ``int()``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NAN = float("nan")
# JavaScript's "undefined": a key that is absent, which JSON.stringify drops.
UNDEFINED: Any = type("Undefined", (), {"__repr__": lambda self: "undefined"})()

_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_JS_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_RADIX = re.compile(r"0(?:[xX](?P<hex>[0-9a-fA-F]+)|[oO](?P<oct>[0-7]+)|[bB](?P<bin>[01]+))")
_LEADING_INT = re.compile(r"[+-]?\d+")


class ApiError(Exception):
    """An error DummyJSON answers with ``{"message": ...}`` and this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def to_number(text: str) -> float:
    """JavaScript ``Number(string)``."""
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    radix = _RADIX.fullmatch(text)
    if radix:
        digits, base = next((v, b) for v, b in zip(radix.groups(), (16, 8, 2), strict=True) if v)
        return float(int(digits, base))
    return NAN


def parse_int(text: str) -> float:
    """JavaScript ``parseInt(string, 10)``: the leading integer, or NaN."""
    match = _LEADING_INT.match(text.lstrip(_JS_SPACE))
    return float(int(match.group())) if match else NAN


def to_js_string(value: Any) -> str | None:
    """JavaScript ``String(value)``; None where ``value.toString()`` would throw."""
    if value is UNDEFINED or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(to_js_string(v) or "" for v in value)
    return "[object Object]"


def _number_to_string(value: float) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    return repr(value)


def js_value(record: Any, key: str) -> Any:
    """``record[key]`` for own properties; everything else reads as undefined."""
    return record.get(key, UNDEFINED) if isinstance(record, dict) else UNDEFINED


def _primitive(value: Any) -> Any:
    if isinstance(value, list | dict):
        return to_js_string(value)
    return value


def _to_number_value(value: Any) -> float:
    if value is UNDEFINED:
        return NAN
    if value is None:
        return 0.0
    if isinstance(value, str):
        return to_number(value)
    return float(value)


def _less_than(a: Any, b: Any) -> bool:
    """JavaScript ``a < b``."""
    a, b = _primitive(a), _primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        # Strings compare by UTF-16 code unit, so "Z" < "a" and astral characters sort
        # below U+E000..U+FFFF, unlike Python's code point order.
        return a.encode("utf-16-be") < b.encode("utf-16-be")
    x, y = _to_number_value(a), _to_number_value(b)
    return x < y  # NaN makes every comparison false, as in JavaScript


def strict_equal(a: Any, b: Any) -> bool:
    """JavaScript ``a === b``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list | dict) or isinstance(b, list | dict):
        return a is b
    return type(a) is type(b) and a == b


def value_comparator(ascending: bool) -> Callable[[Any, Any], int]:
    """DummyJSON's sort comparator, over two field values. It is inconsistent for missing
    or mixed-type values, exactly like the original; Python's sort is stable like V8's, so
    ties keep file order."""

    def compare(x: Any, y: Any) -> int:
        if strict_equal(x, y):
            return 0
        if ascending:
            return 1 if _less_than(y, x) else -1
        return 1 if _less_than(x, y) else -1

    return compare


@dataclass(frozen=True)
class ListQuery:
    """The parsed query of any /products route."""

    limit: float = 30.0  # an integer value, or NaN
    skip: float = 0.0  # an integer value, or NaN
    q: str | None = None
    select: tuple[str, ...] | None = None
    sort_by: str | None = None
    ascending: bool = True
    delay_ms: int = 0

    @property
    def skip_field(self) -> int | None:
        """The response's ``skip``: the parsed parameter, NaN serialising as null."""
        return None if math.isnan(self.skip) else int(self.skip)

    def page_bounds(self, total: int) -> tuple[int, int]:
        """``(start, stop)`` into the sorted, filtered list, with the slice quirks."""
        start = int(self.skip) if self.skip > 0 else 0  # NaN > 0 is false
        start = min(start, total)
        remaining = total - start
        if math.isnan(self.limit):
            return start, start  # slice(0, NaN) is empty
        limit = int(self.limit)
        if limit == 0 or limit > remaining:
            return start, total
        # A negative limit drops items from the end, like Array.prototype.slice(0, -n).
        count = limit if limit > 0 else max(remaining + limit, 0)
        return start, start + count

    def project(self, record: Any) -> Any:
        if self.select is None:
            return record
        projected = {"id": js_value(record, "id")}
        for key in self.select:
            projected[key] = js_value(record, key)
        return {k: v for k, v in projected.items() if v is not UNDEFINED}


def _single(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    """Express's qs turns a repeated key into an array; ``Number(array)`` then sees the
    values joined by commas, which is never a number when there are several."""
    values = params.get(key)
    if not values:
        return None
    return ",".join(values)


def parse_list_query(params: Mapping[str, Sequence[str]]) -> ListQuery:
    """Validate and parse query parameters in DummyJSON's order; raises ApiError(400)."""
    limit = _single(params, "limit")
    skip = _single(params, "skip")
    if limit is not None and math.isnan(to_number(limit)):
        raise ApiError(400, "Invalid 'limit' - must be a number")
    if skip is not None and math.isnan(to_number(skip)):
        raise ApiError(400, "Invalid 'skip' - must be a number")

    q_values = list(params.get("q", [])) + list(params.get("q[valueSearch]", []))
    if len(q_values) > 1:
        raise ApiError(400, "Invalid 'q' - must be a string")
    q = q_values[0].strip(_JS_SPACE).lower().replace("-", " ") if q_values else None

    select_values = list(params.get("select", [])) + list(params.get("select[]", []))
    select: tuple[str, ...] | None = None
    if len(select_values) == 1 and select_values[0]:
        select = tuple(select_values[0].split(","))
    elif len(select_values) > 1:
        select = tuple(select_values)

    sort_by = _single(params, "sortBy") or None  # "" is falsy in JavaScript
    order = _single(params, "order")
    ascending = True
    if sort_by:
        order_value = (order or "asc").lower()
        if order_value not in ("asc", "desc"):
            raise ApiError(400, "Order can be: 'asc' or 'desc'")
        ascending = order_value == "asc"

    delay_ms = 0
    delay = _single(params, "delay")
    if delay is not None:
        if math.isnan(to_number(delay)):
            raise ApiError(400, "Delay must be a number in milliseconds")
        parsed = parse_int(delay)
        if parsed > 5000:
            raise ApiError(400, "Delay cannot be greater than 5 seconds")
        if parsed < 0:
            raise ApiError(400, "Delay cannot be less than 0")
        delay_ms = 0 if math.isnan(parsed) else int(parsed)

    return ListQuery(
        limit=30.0 if limit is None else parse_int(limit),
        skip=0.0 if skip is None else parse_int(skip),
        q=q,
        select=select,
        sort_by=sort_by,
        ascending=ascending,
        delay_ms=delay_ms,
    )


def _js_json_value(value: Any) -> Any:
    """JSON.stringify's view of a value: integral floats print without ".0" and NaN or
    Infinity become null; undefined members disappear."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {k: _js_json_value(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if v is UNDEFINED else _js_json_value(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as Express's ``res.json`` writes it."""
    text = json.dumps(_js_json_value(value), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")
