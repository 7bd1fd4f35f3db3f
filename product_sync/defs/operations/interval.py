"""How often the daemon evaluates the operations sensors: every 30 s by default
(PRODUCT_SYNC_SENSOR_INTERVAL_S), so a crashed sync is failed and an alert sent within
about that long. Each tick asks the code server once; a few seconds is as low as it pays."""

import os
from collections.abc import Mapping

from product_sync import names


def sensor_interval_s(env: Mapping[str, str] = os.environ) -> int:
    raw = (env.get(names.SENSOR_INTERVAL_ENV) or "").strip()
    if not raw:
        return names.DEFAULT_SENSOR_INTERVAL_S
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(
            f"{names.SENSOR_INTERVAL_ENV} must be a whole number of seconds, at least 1"
            f" (default {names.DEFAULT_SENSOR_INTERVAL_S}), got {raw!r}"
        )
    return int(raw)


SENSOR_INTERVAL_S = sensor_interval_s()
