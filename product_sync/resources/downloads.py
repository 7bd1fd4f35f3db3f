"""Downloading source images: bounded in size, checked for type, retried like any GET,
and conditional on the ETag we saw last time so an unchanged image costs a 304."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from product_sync.resources.http import ClientError, JSONClient, TransientError

MAX_IMAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Download:
    """`content` is None when the server said the image is unchanged (304)."""

    content: bytes | None
    content_type: str
    etag: str | None

    @property
    def sha256(self) -> str:
        assert self.content is not None
        return hashlib.sha256(self.content).hexdigest()


class NotAnImage(ClientError):
    pass


def fetch_image(
    client: JSONClient, url: str, etag: str | None = None, max_bytes: int = MAX_IMAGE_BYTES
) -> Download:
    """GET an absolute image URL with the client's retry rules."""
    for attempt in client.retrying():
        with attempt:
            return _fetch_once(client, url, etag, max_bytes)
    raise AssertionError("unreachable")  # pragma: no cover


def _fetch_once(client: JSONClient, url: str, etag: str | None, max_bytes: int) -> Download:
    path = urlsplit(url).path
    client.stats.count_request()
    headers = {"Accept": "image/*"}
    if etag:
        headers["If-None-Match"] = etag
    try:
        with client.session.get(url, headers=headers, timeout=client.timeout, stream=True) as r:
            if r.status_code == 304:
                return Download(None, "", etag)
            if r.status_code == 429 or r.status_code >= 500:
                raise TransientError("GET", path, r.status_code, r.reason or "")
            if r.status_code >= 400:
                raise ClientError("GET", path, r.status_code, r.reason or "")
            content_type = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not content_type.startswith("image/"):
                raise NotAnImage("GET", path, r.status_code, f"not an image: {content_type!r}")
            declared = int(r.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise NotAnImage("GET", path, r.status_code, f"image over {max_bytes} bytes")
            chunks, size = [], 0
            for chunk in r.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise NotAnImage("GET", path, r.status_code, f"image over {max_bytes} bytes")
                chunks.append(chunk)
            return Download(b"".join(chunks), content_type, r.headers.get("ETag"))
    except (requests.ConnectionError, requests.Timeout) as error:
        raise TransientError("GET", path, None, type(error).__name__) from None
    except requests.exceptions.ChunkedEncodingError:
        raise TransientError("GET", path, None, "image body cut off") from None
