"""How the store groups products: product categories, product tags and collections.

All three are shared by every product of the store and unique by one value (a category's
and a collection's handle, a tag's value), so each is looked up by it before it is
created, and a create that timed out is looked up again before it is sent again.

Medusa's routes for tags and collections create one record per request, and each such
request costs about as much as writing several products (a workflow run, an event, a
refetch). Many are created in one request instead by running the very workflow those
routes run (`create-product-tags`, `create-collections`) with all of them as its input,
through Medusa's admin route for running a workflow
(`POST /admin/workflows-executions/{workflow_id}/run`); where that is refused (a value
created meanwhile makes the whole run fail, and roll back) or not allowed, the caller
creates what is still missing one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from product_sync.core.categories import StoreCategory
from product_sync.resources.http import HTTPError
from product_sync.resources.medusa.client import LOOKUP_CHUNK, MedusaClient, check_filter, chunks

WORKFLOW_RUN = "/admin/workflows-executions/{}/run"
TAGS_WORKFLOW = "create-product-tags"
COLLECTIONS_WORKFLOW = "create-collections"
MANY_CHUNK = 500  # records per workflow run


class Taxonomy(MedusaClient):
    def categories_by_handle(self, handles: Sequence[str]) -> list[StoreCategory]:
        rows = self._lookup(
            "/admin/product-categories", "product_categories", "handle", handles, "id,handle,name"
        )
        return [StoreCategory(id=r["id"], handle=r["handle"], name=r["name"]) for r in rows]

    def create_category(self, name: str, handle: str) -> str:
        def landed() -> str | None:
            found = self.categories_by_handle([handle])
            return found[0].id if found else None

        return self._create_once(
            "/admin/product-categories",
            {"name": name, "handle": handle, "is_active": True},
            "product_category",
            landed,
        )

    def rename_category(self, category_id: str, name: str) -> None:
        self._call(
            "POST",
            f"/admin/product-categories/{category_id}",
            json_body={"name": name},
            params={"fields": "id"},
        )

    def tags_by_value(self, values: Sequence[str]) -> dict[str, str]:
        """Value -> id of the store's product tags with these values."""
        rows = self._lookup("/admin/product-tags", "product_tags", "value", values)
        return {r["value"]: r["id"] for r in rows}

    def create_tag(self, value: str) -> str:
        return self._create_once(
            "/admin/product-tags",
            {"value": value},
            "product_tag",
            lambda: self.tags_by_value([value]).get(value),
        )

    def collections_by_handle(self, handles: Sequence[str]) -> dict[str, str]:
        """Handle -> id of the store's product collections with these handles."""
        rows = self._lookup("/admin/collections", "collections", "handle", handles)
        return {r["handle"]: r["id"] for r in rows}

    def create_collection(self, title: str, handle: str) -> str:
        return self._create_once(
            "/admin/collections",
            {"title": title, "handle": handle},
            "collection",
            lambda: self.collections_by_handle([handle]).get(handle),
        )

    def create_tags_at_once(self, values: Sequence[str]) -> list[str]:
        """Create these tags in as few requests as can be; the values created (the rest
        may exist already, or be left to create one by one: see the module docstring)."""
        items = [{"value": v} for v in values]
        return [i["value"] for i in self._run_create_workflow(TAGS_WORKFLOW, "product_tags", items)]

    def create_collections_at_once(self, collections: Sequence[dict[str, str]]) -> list[str]:
        """Like `create_tags_at_once`, for {"title", "handle"} collections: the handles
        created."""
        items = [{"title": c["title"], "handle": c["handle"]} for c in collections]
        made = self._run_create_workflow(COLLECTIONS_WORKFLOW, "collections", items)
        return [i["handle"] for i in made]

    def _run_create_workflow(
        self, workflow_id: str, key: str, items: list[dict[str, str]]
    ) -> list[dict[str, str]]:
        """Run a create workflow over `items`, `MANY_CHUNK` at a time: the items of the
        runs that finished. Sent once each, never retried (a run whose answer was lost may
        have created its records; the caller looks them up)."""
        made: list[dict[str, str]] = []
        for chunk in chunks(items, MANY_CHUNK):
            try:
                answer = self.client.send_once(
                    "POST", WORKFLOW_RUN.format(workflow_id), json_body={"input": {key: chunk}}
                )
            except HTTPError:  # refused, not allowed (an older store, a narrower key), lost
                continue
            ack = (answer or {}).get("acknowledgement") or {}
            if ack.get("hasFinished") and not ack.get("hasFailed"):
                made.extend(chunk)
        return made

    def _lookup(
        self, path: str, key: str, field: str, values: Sequence[str], fields: str = ""
    ) -> list[dict[str, Any]]:
        """The records whose `field` is one of `values`, 100 values a request."""
        found: list[dict[str, Any]] = []
        for chunk in chunks(list(dict.fromkeys(values)), LOOKUP_CHUNK):
            body = self._call(
                "GET",
                path,
                params={
                    f"{field}[]": list(chunk),
                    "fields": fields or f"id,{field}",
                    "limit": len(chunk),
                },
            )
            rows = body.get(key, [])
            check_filter(rows, field, chunk)
            found.extend(rows)
        return found

    def _create_once(
        self, path: str, body: dict[str, Any], key: str, landed: Callable[[], str | None]
    ) -> str:
        """Create one record; before every retry, ask `landed` for the one a request that
        timed out may have made, and return that instead of sending again."""
        for attempt in self.client.retrying():
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    found = landed()
                    if found:
                        return found
                answer = self._call(
                    "POST", path, json_body=body, params={"fields": "id"}, retry=False
                )
                return answer[key]["id"]
        raise AssertionError("unreachable")  # pragma: no cover
