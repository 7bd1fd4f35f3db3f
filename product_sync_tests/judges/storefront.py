"""A storefront's view of the store: Medusa's Store API, driven as a shop's frontend drives it.

Every request carries the publishable key (`x-publishable-api-key`), prices come from a
region, and buying is the checkout a storefront runs: cart -> line item -> email and
address -> shipping method (one of `/store/shipping-options?cart_id=`) -> payment
collection with a `pp_system_default` session -> complete -> an order.

It knows nothing of product_sync (no import from it): tests use it to judge what the sync
wrote by what a shopper can find, pay and buy, independently of the pipeline's own checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

# What a storefront asks for: the region's price and the stock it may sell.
PRODUCT_FIELDS = "*variants.calculated_price,+variants.inventory_quantity"
PAYMENT_PROVIDER = "pp_system_default"
PAGE_SIZE = 100
SHOPPER_EMAIL = "shopper@example.com"
US_ADDRESS = {
    "first_name": "Sam",
    "last_name": "Shopper",
    "address_1": "1 Main Street",
    "city": "Springfield",
    "province": "IL",
    "postal_code": "62701",
    "country_code": "us",
    "phone": "+15555550100",
}


class StoreAPIError(Exception):
    """The Store API refused a request (its status, error type and message)."""

    def __init__(self, method: str, path: str, status: int, type_: str, message: str) -> None:
        super().__init__(f"{method} {path} -> {status} {type_}: {message}")
        self.method, self.path, self.status = method, path, status
        self.type, self.message = type_, message


class CheckoutIncomplete(Exception):
    """`complete` answered with the cart instead of an order (payment not authorized)."""

    def __init__(self, cart_id: str, error: dict[str, Any]) -> None:
        super().__init__(f"cart {cart_id} was not completed: {error}")
        self.cart_id, self.error = cart_id, error


@dataclass(frozen=True)
class Price:
    """A variant's price as the storefront shows it (`calculated_price`), major units."""

    calculated: Decimal
    original: Decimal
    currency_code: str


def price_of(variant: dict[str, Any]) -> Price:
    """The variant's `calculated_price` (listed with `PRODUCT_FIELDS` and a region)."""
    shown = variant.get("calculated_price")
    if not shown:
        raise AssertionError(f"variant {variant.get('id')} has no calculated price: {variant}")
    return Price(
        calculated=Decimal(str(shown["calculated_amount"])),
        original=Decimal(str(shown["original_amount"])),
        currency_code=shown["currency_code"],
    )


class Storefront:
    """One shopper's client of the Store API of the store at `backend_url`."""

    def __init__(
        self, backend_url: str, publishable_key: str, region_id: str, *, timeout_s: float = 60
    ) -> None:
        if not publishable_key or not region_id:
            raise ValueError("a storefront needs a publishable key and a region id")
        self.base_url = backend_url.rstrip("/")
        self.region_id = region_id
        self.timeout_s = timeout_s
        self.http = requests.Session()
        self.http.trust_env = False  # loopback: no proxies
        self.http.headers["x-publishable-api-key"] = publishable_key

    @classmethod
    def of(cls, info: Any) -> Storefront:
        """For a dev stack (`devstack.stack.StackInfo`: backend_url, publishable_key,
        region_id)."""
        return cls(info.backend_url, info.publishable_key, info.region_id)

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        resp = self.http.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        if resp.status_code != 200:
            try:
                body = resp.json()
            except ValueError:
                body = {"message": resp.text[:300]}
            raise StoreAPIError(
                method, path, resp.status_code, body.get("type", ""), body.get("message", "")
            )
        return resp.json()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._send("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send("POST", path, json=body or {})

    # -- catalog -----------------------------------------------------------------------

    def iter_products(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every product the storefront lists (all pages), priced for the region."""
        offset = 0
        while True:
            body = self.get(
                "/store/products",
                region_id=self.region_id,
                fields=PRODUCT_FIELDS,
                limit=PAGE_SIZE,
                offset=offset,
                order="id",
                **filters,
            )
            yield from body["products"]
            offset += len(body["products"])
            if not body["products"] or offset >= body["count"]:
                return

    def products(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.iter_products(**filters))

    def _listing(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            body = self.get(path, limit=PAGE_SIZE, offset=len(rows), **params)
            rows += body[key]
            if not body[key] or len(rows) >= body["count"]:
                return rows

    def product_tags(self, **filters: Any) -> list[dict[str, Any]]:
        """The store's product tags, as a storefront's tag filter lists them."""
        return self._listing("/store/product-tags", "product_tags", **filters)

    def collections(self, **filters: Any) -> list[dict[str, Any]]:
        """The store's collections (a storefront's "shop by brand" page)."""
        return self._listing("/store/collections", "collections", **filters)

    def products_tagged(self, tag_id: str) -> list[dict[str, Any]]:
        return self.products(**{"tag_id[]": [tag_id]})

    def products_in_collection(self, collection_id: str) -> list[dict[str, Any]]:
        return self.products(**{"collection_id[]": [collection_id]})

    def product(self, handle: str) -> dict[str, Any] | None:
        """The product a storefront's product page for `handle` shows (None: not found)."""
        found = [p for p in self.products(handle=handle) if p["handle"] == handle]
        return found[0] if found else None

    # -- checkout, step by step --------------------------------------------------------

    def create_cart(self) -> dict[str, Any]:
        return self.post("/store/carts", {"region_id": self.region_id})["cart"]

    def cart(self, cart_id: str) -> dict[str, Any]:
        return self.get(f"/store/carts/{cart_id}")["cart"]

    def add_item(self, cart_id: str, variant_id: str, quantity: int = 1) -> dict[str, Any]:
        body = {"variant_id": variant_id, "quantity": quantity}
        return self.post(f"/store/carts/{cart_id}/line-items", body)["cart"]

    def set_address(
        self,
        cart_id: str,
        *,
        email: str = SHOPPER_EMAIL,
        address: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        where = address or US_ADDRESS
        body = {"email": email, "shipping_address": where, "billing_address": where}
        return self.post(f"/store/carts/{cart_id}", body)["cart"]

    def shipping_options(self, cart_id: str) -> list[dict[str, Any]]:
        return self.get("/store/shipping-options", cart_id=cart_id)["shipping_options"]

    def add_shipping_method(self, cart_id: str, option_id: str) -> dict[str, Any]:
        body = {"option_id": option_id}
        return self.post(f"/store/carts/{cart_id}/shipping-methods", body)["cart"]

    def start_payment(self, cart_id: str, provider_id: str = PAYMENT_PROVIDER) -> dict[str, Any]:
        """The cart's payment collection with a session of `provider_id` in it."""
        collection = self.post("/store/payment-collections", {"cart_id": cart_id})
        path = f"/store/payment-collections/{collection['payment_collection']['id']}"
        sessions = self.post(f"{path}/payment-sessions", {"provider_id": provider_id})
        return sessions["payment_collection"]

    def complete(self, cart_id: str) -> dict[str, Any]:
        """Place the order. Returns the order; `CheckoutIncomplete` if Medusa answered with
        the cart (payment not authorized), `StoreAPIError` if it refused the cart."""
        answer = self.post(f"/store/carts/{cart_id}/complete")
        if answer.get("type") != "order":
            raise CheckoutIncomplete(cart_id, answer.get("error") or {})
        return answer["order"]

    # -- checkout, whole ---------------------------------------------------------------

    def checkout(self, cart_id: str, *, email: str = SHOPPER_EMAIL) -> dict[str, Any]:
        """Everything after the line items: address, the cheapest shipping option, payment,
        complete. Returns the order."""
        self.set_address(cart_id, email=email)
        options = self.shipping_options(cart_id)
        if not options:
            raise AssertionError(f"no shipping option for cart {cart_id}")
        cheapest = min(options, key=lambda o: (Decimal(str(o.get("amount") or 0)), o["id"]))
        self.add_shipping_method(cart_id, cheapest["id"])
        self.start_payment(cart_id)
        return self.complete(cart_id)

    def buy(
        self, items: Sequence[tuple[str, int]], *, email: str = SHOPPER_EMAIL
    ) -> dict[str, Any]:
        """A new cart with these (variant id, quantity) items, checked out: the order."""
        cart = self.create_cart()
        for variant_id, quantity in items:
            self.add_item(cart["id"], variant_id, quantity)
        return self.checkout(cart["id"], email=email)
