"""Files into the store's own file storage (image copies)."""

from __future__ import annotations

from collections.abc import Sequence

from product_sync.resources.medusa.client import MedusaClient, StoreRejected


class Uploads(MedusaClient):
    def upload_files(self, files: Sequence[tuple[str, bytes, str]]) -> list[str]:
        """Upload (name, bytes, content type) files; returns their URLs in order.

        Retried like other calls: a repeated upload can only leave an unused copy behind.
        """
        body = self._call(
            "POST",
            "/admin/uploads",
            files=[("files", (name, content, kind)) for name, content, kind in files],
        )
        urls = [f["url"] for f in body.get("files", [])]
        if len(urls) != len(files):
            raise StoreRejected(f"uploaded {len(files)} files, the store returned {len(urls)}")
        return urls
