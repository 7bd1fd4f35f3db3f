"""Shipping profiles: a product without one cannot be checked out (Medusa 2.21 sets none
by itself), so every product the sync writes names one."""

from __future__ import annotations

from product_sync.resources.medusa.client import PAGE_SIZE, MedusaClient, StoreRejected


class Shipping(MedusaClient):
    def shipping_profile_id(self, wanted: str | None = None) -> str | None:
        """The profile products are given: `wanted` (an id or a name) when set, else the
        store's profile of type `default` (None if it has none).

        A setting that names no profile fails the run: products written without the
        profile the operator meant could not be bought.
        """
        rows = sorted(
            self._iter_listing(
                "/admin/shipping-profiles",
                "shipping_profiles",
                {"fields": "id,name,type", "order": "id"},
                PAGE_SIZE,
            ),
            key=lambda r: r["id"],
        )
        if not wanted:
            defaults = [r["id"] for r in rows if r.get("type") == "default"]
            return defaults[0] if defaults else None
        by_id = [r["id"] for r in rows if r["id"] == wanted]
        by_name = [r["id"] for r in rows if r.get("name") == wanted]
        if by_id or len(by_name) == 1:
            return (by_id or by_name)[0]
        names = ", ".join(repr(r.get("name")) for r in rows[:10]) or "none"
        why = "several profiles are" if by_name else "no profile is"
        raise StoreRejected(
            f"shipping_profile {wanted!r}: {why} called that in the store at "
            f"{self.backend_url} (its profiles: {names}); set an id (sp_…) or a unique name"
        )
