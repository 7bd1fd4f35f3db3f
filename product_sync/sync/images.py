"""Images in the store's file storage: each source image downloaded once, uploaded once
per content, and linked by the copy's URL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog
from product_sync.core.images import StoredImage, source_urls
from product_sync.core.planning import ProductIndex
from product_sync.resources.downloads import Download
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.http import HTTPError
from product_sync.resources.medusa import MedusaResource

IMAGE_CHUNK = 32  # images downloaded (and held in memory) at a time
UPLOAD_CHUNK = 32  # files per upload request
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif"}


class ImageReport(BaseModel):
    resolved: dict[str, StoredImage] = {}
    uploaded: int = 0
    reused: int = 0
    failed: int = 0
    failures: list[str] = []


def known_images(index: ProductIndex) -> dict[str, StoredImage]:
    """Every uploaded copy the store's products remember, by source URL."""
    known: dict[str, StoredImage] = {}
    for product in [*index.products.values(), *index.duplicates]:
        known.update(product.images)
    return known


def resolve_images(
    catalog: SourceCatalog,
    index: ProductIndex,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
) -> ImageReport:
    """Make sure every source image has a copy in the store's file storage.

    Keyed by content: an image whose ETag still matches (304), or whose bytes hash to a copy
    the store already has, is reused; only new content is uploaded. An image that cannot be
    fetched or uploaded keeps its source URL and is counted as failed.
    """
    known = known_images(index)
    by_sha = {ref.sha256: ref.url for ref in known.values()}
    urls = list(
        dict.fromkeys(u for p in catalog.products_view for u in source_urls(p.images, p.thumbnail))
    )
    report = ImageReport()

    def download(url: str) -> tuple[str, Download | None, str | None]:
        prior = known.get(url)
        try:
            return url, dummyjson.download_image(url, prior.etag if prior else None), None
        except HTTPError as error:
            return url, None, str(error)

    with ThreadPoolExecutor(max_workers=dummyjson.concurrency) as pool:
        for start in range(0, len(urls), IMAGE_CHUNK):
            fresh: dict[str, tuple[Download, list[str]]] = {}
            for url, got, error in pool.map(download, urls[start : start + IMAGE_CHUNK]):
                if got is None:
                    report.failed += 1
                    report.failures.append(f"{url}: {error}")
                elif got.content is None:  # 304: what we hold is current
                    report.resolved[url] = known[url]
                    report.reused += 1
                elif got.sha256 in by_sha:
                    report.resolved[url] = StoredImage(
                        sha256=got.sha256, url=by_sha[got.sha256], etag=got.etag
                    )
                    report.reused += 1
                else:
                    fresh.setdefault(got.sha256, (got, []))[1].append(url)
            _upload(fresh, medusa, report, by_sha)
    return report


def _upload(
    fresh: dict[str, tuple[Download, list[str]]],
    medusa: MedusaResource,
    report: ImageReport,
    by_sha: dict[str, str],
) -> None:
    items = list(fresh.items())
    for start in range(0, len(items), UPLOAD_CHUNK):
        chunk = items[start : start + UPLOAD_CHUNK]
        files = [
            (sha[:24] + EXTENSIONS.get(got.content_type, ""), got.content or b"", got.content_type)
            for sha, (got, _) in chunk
        ]
        try:
            copies = medusa.upload_files(files)
        except HTTPError as error:
            for _, (_, urls) in chunk:
                report.failed += len(urls)
                report.failures.extend(f"{u}: upload failed: {error}" for u in urls)
            continue
        for (sha, (got, urls)), copy in zip(chunk, copies, strict=True):
            by_sha[sha] = copy
            report.uploaded += 1
            for url in urls:
                report.resolved[url] = StoredImage(sha256=sha, url=copy, etag=got.etag)
