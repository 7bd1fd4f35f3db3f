"""The sale-price step against a small in-memory price-list store (served by `responses`)."""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import responses

from product_sync.core.catalog import SourceCatalog
from product_sync.core.ownership import CREATE_ONLY, IGNORE
from product_sync.core.planning import IndexedProduct, PlannedWrite, ProductIndex, SyncPlan
from product_sync.core.sale_prices import PRICE_LIST_KEY
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import read_sale_prices_ahead, sync_sale_prices
from product_sync_tests.factories import product

STORE = "http://store.test"
PREFIX = "dummyjson:"


class PriceListStore:
    """Price lists and their prices, as the Admin API routes the step uses show them."""

    def __init__(self) -> None:
        self.lists: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}  # price id -> {list, variant, amount}
        self.ids = itertools.count(1)
        self.fail_next_batch = 0
        self.created_meanwhile: list[str] = []  # lists "another run" adds before ours lands

    def add_list(self, metadata: dict[str, Any], created_at: str) -> str:
        list_id = f"plist_{next(self.ids):02d}"
        self.lists[list_id] = {"id": list_id, "metadata": metadata, "created_at": created_at}
        return list_id

    def add_price(self, list_id: str, variant: str, amount: str) -> str:
        price_id = f"price_{next(self.ids):02d}"
        self.prices[price_id] = {"list": list_id, "variant": variant, "amount": Decimal(amount)}
        return price_id

    def held(self, list_id: str) -> dict[str, Decimal]:
        return {p["variant"]: p["amount"] for p in self.prices.values() if p["list"] == list_id}

    def serve(self) -> None:
        lists = re.compile(rf"{STORE}/admin/price-lists(\?.*)?$")
        one = re.compile(rf"{STORE}/admin/price-lists/(plist_\d+)$")
        prices = re.compile(rf"{STORE}/admin/price-lists/(plist_\d+)/prices(\?.*)?$")
        batch = re.compile(rf"{STORE}/admin/price-lists/(plist_\d+)/prices/batch(\?.*)?$")
        responses.add_callback(responses.GET, lists, callback=self._list)
        responses.add_callback(responses.POST, lists, callback=self._create)
        responses.add_callback(responses.DELETE, one, callback=self._delete)
        responses.add_callback(responses.GET, prices, callback=self._prices)
        responses.add_callback(responses.POST, batch, callback=self._batch)

    @staticmethod
    def _answer(body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps(body)

    def _list(self, request):
        rows = list(self.lists.values())
        return self._answer({"price_lists": rows, "count": len(rows), "offset": 0})

    def _create(self, request):
        for created_at in self.created_meanwhile:
            self.add_list({PRICE_LIST_KEY: PREFIX}, created_at)
        body = json.loads(request.body)
        list_id = self.add_list(body["metadata"], "2026-06-01T00:00:00.500Z")
        for price in body.get("prices", []):
            self.add_price(list_id, price["variant_id"], str(price["amount"]))
        return self._answer({"price_list": {"id": list_id}})

    def _delete(self, request):
        list_id = urlsplit(request.url).path.rsplit("/", 1)[-1]
        self.lists.pop(list_id)
        for price_id in [k for k, p in self.prices.items() if p["list"] == list_id]:
            del self.prices[price_id]
        return self._answer({"id": list_id, "deleted": True})

    def _prices(self, request):
        list_id = urlsplit(request.url).path.split("/")[3]
        rows = [
            {
                "id": price_id,
                "amount": float(p["amount"]),
                "currency_code": "usd",
                "price_set": {"variant": {"id": p["variant"]}},
            }
            for price_id, p in sorted(self.prices.items())
            if p["list"] == list_id
        ]
        return self._answer({"prices": rows, "count": len(rows), "offset": 0})

    def _batch(self, request):
        list_id = urlsplit(request.url).path.split("/")[3]
        body = json.loads(request.body)
        for price_id in body.get("delete", []):
            del self.prices[price_id]
        for price in body.get("update", []):
            self.prices[price["id"]]["amount"] = Decimal(str(price["amount"]))
        for price in body.get("create", []):
            self.add_price(list_id, price["variant_id"], str(price["amount"]))
        if self.fail_next_batch:  # applied, but the answer never arrives
            self.fail_next_batch -= 1
            return 504, {}, "{}"
        return self._answer({"created": [], "updated": [], "deleted": {}})


def medusa() -> MedusaResource:
    fast = {"initial_backoff_s": 0, "max_backoff_s": 0, "max_retries": 1}
    return MedusaResource(backend_url=STORE, api_key="sk_x", **fast)


def catalog(*discounts: float | None) -> SourceCatalog:
    """Products 1.. at $10.00 with these discounts."""
    return SourceCatalog(
        products=[
            product(id=i, price=10.0, discountPercentage=d) for i, d in enumerate(discounts, 1)
        ]
    )


def index(*source_ids: int) -> ProductIndex:
    return ProductIndex.build(
        PREFIX,
        [
            IndexedProduct(
                id=f"prod_{i}",
                source_id=i,
                handle=f"p-{i}",
                status="published",
                variant_id=f"variant_{i}",
            )
            for i in source_ids
        ],
    )


def run(store, cat, idx, plan=None, *, apply=True, dry_run=False):
    m = medusa()
    ahead = read_sale_prices_ahead(m)
    return sync_sale_prices(ahead, cat, idx, plan or SyncPlan(), m, apply=apply, dry_run=dry_run)


def writes() -> list[str]:
    return [
        f"{c.request.method} {urlsplit(c.request.url).path}"
        for c in responses.calls
        if c.request.method != "GET"
    ]


def test_the_first_sale_price_creates_the_list_with_the_prices_in_it(store):
    report = run(store, catalog(12.5, None, 50), index(1, 2, 3))
    (list_id,) = store.lists
    assert store.lists[list_id]["metadata"] == {PRICE_LIST_KEY: PREFIX}
    assert store.held(list_id) == {"variant_1": Decimal("8.75"), "variant_3": Decimal("5")}
    assert (report.written, report.removed, report.error) == (2, 0, None)
    assert writes() == ["POST /admin/price-lists"]
    (create,) = [json.loads(c.request.body) for c in responses.calls if c.request.method == "POST"]
    assert create["type"] == "sale" and create["status"] == "active"


def test_a_list_that_already_holds_the_sale_prices_is_not_written(store):
    list_id = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(list_id, "variant_1", "8.75")
    report = run(store, catalog(12.5, None), index(1, 2))
    assert (report.written, report.removed) == (0, 0) and writes() == []


def test_changed_and_removed_discounts_update_and_delete_their_prices(store):
    list_id = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(list_id, "variant_1", "8.75")
    store.add_price(list_id, "variant_2", "9.00")
    report = run(store, catalog(20, None, 10), index(1, 2, 3))
    assert store.held(list_id) == {"variant_1": Decimal("8"), "variant_3": Decimal("9")}
    assert (report.written, report.removed) == (2, 1)


def test_a_list_of_someone_else_and_prices_outside_the_scope_are_left_alone(store):
    theirs = store.add_list({"campaign": "summer"}, "2025-01-01T00:00:00Z")
    store.add_price(theirs, "variant_1", "1.00")
    ours = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(ours, "variant_99", "1.00")  # a product of another range
    run(store, catalog(12.5), index(1))
    assert store.held(theirs) == {"variant_1": Decimal("1.00")}
    assert store.held(ours) == {"variant_99": Decimal("1.00"), "variant_1": Decimal("8.75")}


def test_apply_discounts_off_removes_the_sale_prices_and_creates_no_list(store):
    list_id = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(list_id, "variant_1", "8.75")
    report = run(store, catalog(12.5, 10), index(1, 2), apply=False)
    assert store.held(list_id) == {} and report.removed == 1
    store.lists.clear()
    responses.calls.reset()
    assert run(store, catalog(12.5), index(1), apply=False).written == 0
    assert writes() == []


def test_a_dry_run_writes_nothing_and_counts_what_a_real_run_would(store):
    created = PlannedWrite(source_id=3, external_id="dummyjson:3", handle="p-3", payload={})
    plan = SyncPlan(creates=[created])
    report = run(store, catalog(12.5, None, 30), index(1, 2), plan, dry_run=True)
    assert writes() == [] and store.lists == {}
    assert (report.written, report.removed) == (2, 0)  # product 1, and new product 3


def test_new_products_get_their_sale_price_by_the_variant_they_were_given(store):
    responses.get(
        f"{STORE}/admin/products",
        json={
            "products": [
                {"id": "prod_3", "external_id": "dummyjson:3", "variants": [{"id": "var_new"}]}
            ]
        },
    )
    created = PlannedWrite(source_id=3, external_id="dummyjson:3", handle="p-3", payload={})
    run(store, catalog(None, None, 30), index(1, 2), SyncPlan(creates=[created]))
    (list_id,) = store.lists
    assert store.held(list_id) == {"var_new": Decimal("7")}


def test_of_two_runs_creating_the_list_at_once_the_later_one_moves_into_the_older(store):
    """Another run's list lands just before ours: ours is deleted, prices go to theirs."""
    store.created_meanwhile = ["2026-06-01T00:00:00.100Z"]
    report = run(store, catalog(12.5, 50), index(1, 2))
    (list_id,) = store.lists
    assert store.lists[list_id]["created_at"] == "2026-06-01T00:00:00.100Z"
    assert store.held(list_id) == {"variant_1": Decimal("8.75"), "variant_2": Decimal("5")}
    assert report.price_list_id == list_id and report.written == 2


def test_a_second_list_of_ours_is_removed_and_the_oldest_kept(store):
    old = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    extra = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-02T00:00:00Z")
    store.add_price(extra, "variant_1", "8.75")
    run(store, catalog(12.5), index(1))
    assert list(store.lists) == [old]
    assert store.held(old) == {"variant_1": Decimal("8.75")}
    assert f"DELETE /admin/price-lists/{extra}" in writes()


def test_a_batch_that_timed_out_is_read_back_before_it_is_sent_again(store):
    list_id = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.fail_next_batch = 1
    report = run(store, catalog(12.5, 50), index(1, 2))
    # Landed the first time: the second plan had nothing left to create, so no double.
    assert store.held(list_id) == {"variant_1": Decimal("8.75"), "variant_2": Decimal("5")}
    assert len(store.prices) == 2 and report.error is None


@responses.activate
def test_a_store_failure_is_reported_not_raised():
    responses.get(f"{STORE}/admin/price-lists", status=503)
    report = run(None, catalog(12.5), index(1))
    assert "503" in report.error and writes() == []


def test_sale_prices_the_merchant_owns_are_left_alone(store):
    """`ownership.sale_price`: `ignore` writes none; `create_only` gives new products
    theirs and leaves the others' as the merchant set them."""
    list_id = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(list_id, "variant_1", "7.77")  # the merchant's own sale price
    m = medusa()
    ignored = sync_sale_prices(
        read_sale_prices_ahead(m),
        catalog(12.5),
        index(1),
        SyncPlan(),
        m,
        apply=True,
        dry_run=False,
        ownership=IGNORE,
    )
    assert (ignored.written, ignored.removed) == (0, 0) and writes() == []

    responses.get(
        f"{STORE}/admin/products",
        json={
            "products": [{"id": "prod_2", "external_id": "dummyjson:2", "variants": [{"id": "v2"}]}]
        },
    )
    created = PlannedWrite(source_id=2, external_id="dummyjson:2", handle="p-2", payload={})
    report = sync_sale_prices(
        read_sale_prices_ahead(m),
        catalog(12.5, 50),
        index(1),
        SyncPlan(creates=[created]),
        m,
        apply=True,
        dry_run=False,
        ownership=CREATE_ONLY,
    )
    assert store.held(list_id) == {"variant_1": Decimal("7.77"), "v2": Decimal("5")}
    assert (report.written, report.removed) == (1, 0)
