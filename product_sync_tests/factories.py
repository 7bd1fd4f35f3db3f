"""Source records and store listings for unit tests, shaped like the real APIs."""

from __future__ import annotations

import copy
from typing import Any

from product_sync.core.models import SourceProduct

BASE_RECORD: dict[str, Any] = {
    "id": 1,
    "title": "Essence Mascara Lash Princess",
    "description": "A volumising mascara — très populaire.",
    "category": "beauty",
    "price": 9.99,
    "discountPercentage": 7.17,
    "rating": 4.94,
    "stock": 5,
    "tags": ["beauty", "mascara"],
    "brand": "Essence",
    "sku": "BEA-ESS-ESS-001",
    "weight": 2,
    "dimensions": {"width": 23.17, "height": 14.43, "depth": 28.01},
    "warrantyInformation": "1 month warranty",
    "shippingInformation": "Ships in 1 month",
    "availabilityStatus": "Low Stock",
    "reviews": [{"rating": 2, "comment": "Meh", "date": "2024-05-23T08:56:21.618Z"}],
    "returnPolicy": "30 days return policy",
    "minimumOrderQuantity": 24,
    "meta": {
        "createdAt": "2024-05-23T08:56:21.618Z",
        "updatedAt": "2024-05-23T08:56:21.618Z",
        "barcode": "9164035109868",
        "qrCode": "https://example.test/qr.png",
    },
    "images": ["https://cdn.example.test/beauty/Men's Tee & Co/1.png"],
    "thumbnail": "https://cdn.example.test/beauty/Men's Tee & Co/thumbnail.png",
}


def record(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_RECORD)
    for key, value in overrides.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    if "sku" not in overrides and isinstance(overrides.get("id"), int):
        data["sku"] = f"SKU-{overrides['id']}"
    if isinstance(overrides.get("id"), int) and isinstance(data.get("meta"), dict):
        data["meta"]["barcode"] = f"{9164035100000 + int(overrides['id'])}"
    return data


def product(**overrides: Any) -> SourceProduct:
    return SourceProduct.model_validate(record(**overrides))
