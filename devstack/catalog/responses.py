"""The catalog server's responses: what DummyJSON (Express behind a proxy) sends, down to
its error pages, ETags and rate-limit message."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from devstack.catalog.jsquery import dumps

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
_NOT_FOUND_HTML = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>404 | Not Found'
    "</title></head>\n<body><h1>404</h1><p>Page not found: {path}</p></body>\n</html>\n"
)
_PROXY_HTML = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n<center><h1>{status} "
    "{phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
RATE_LIMIT_MESSAGE = "request limit exceeded, please wait a few seconds"


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any) -> Response:
        return cls(status, dumps(value))

    @classmethod
    def message(cls, status: int, message: str) -> Response:
        return cls.json(status, {"message": message})

    @classmethod
    def not_found_html(cls, path: str) -> Response:
        safe = path.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return cls(404, _NOT_FOUND_HTML.format(path=safe).encode(), HTML_TYPE)


def weak_etag(body: bytes) -> str:
    """The ``etag`` package's weak tag, which Express sets on every ``res.send``."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


def error_response(status: int) -> Response:
    if status == 500:
        return Response.message(500, "Internal Server Error")
    # 502/503/504 come from the proxy in front, which speaks HTML.
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return Response(status, _PROXY_HTML.format(status=status, phrase=phrase).encode(), HTML_TYPE)
