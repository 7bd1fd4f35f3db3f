"""Resources from the environment. Secrets only ever arrive through EnvVar, so they are
resolved at run time and never appear in the UI, in run config or in logs."""

from __future__ import annotations

import os

import dagster as dg

from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.resources.dummyjson import DEFAULT_BASE_URL, DummyJSONResource
from product_sync.resources.medusa import MedusaResource


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        # Not a secret, so it can have a default: the real API unless pointed elsewhere
        # (the offline demo points it at the local catalog server).
        "dummyjson": DummyJSONResource(
            base_url=os.environ.get("DUMMYJSON_BASE_URL") or DEFAULT_BASE_URL
        ),
        "medusa": MedusaResource(
            backend_url=dg.EnvVar("MEDUSA_BACKEND_URL"),
            api_key=dg.EnvVar("MEDUSA_API_KEY"),
        ),
        "sync_settings": SyncSettings(upload_images=_flag("PRODUCT_SYNC_UPLOAD_IMAGES")),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
