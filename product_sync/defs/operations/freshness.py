"""How old `synced_products` may get before the UI shows it as stale: the daily schedule
plus an hour of slack by default (PRODUCT_SYNC_STALE_AFTER_HOURS)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

import dagster as dg

from product_sync import names


def stale_after(env: Mapping[str, str] = os.environ) -> timedelta:
    raw = (env.get(names.STALE_AFTER_HOURS_ENV) or "").strip()
    if not raw:
        return timedelta(hours=names.DEFAULT_STALE_AFTER_HOURS)
    try:
        hours = float(raw)
    except ValueError:
        hours = float("nan")
    if not hours > 0 or hours == float("inf"):
        raise ValueError(
            f"{names.STALE_AFTER_HOURS_ENV} must be a positive number of hours"
            f" (default {names.DEFAULT_STALE_AFTER_HOURS:g}), got {raw!r}"
        )
    return timedelta(hours=hours)


def sync_freshness_policy(env: Mapping[str, str] = os.environ) -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(fail_window=stale_after(env))


SYNC_FRESHNESS_POLICY = sync_freshness_policy()
