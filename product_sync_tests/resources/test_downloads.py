import pytest
import responses

from product_sync.resources.downloads import NotAnImage, fetch_image
from product_sync.resources.http import JSONClient, RetryPolicy

URL = "https://cdn.test/a b/it's & co.png"


@pytest.fixture
def client():
    return JSONClient(
        "https://unused.test", policy=RetryPolicy(initial_backoff_s=0), sleep=lambda s: None
    )


@responses.activate
def test_download_returns_bytes_type_and_etag(client):
    responses.get(URL, body=b"\x89PNG...", content_type="image/png", headers={"ETag": '"v1"'})
    got = fetch_image(client, URL)
    assert got.content == b"\x89PNG..." and got.etag == '"v1"' and len(got.sha256) == 64


@responses.activate
def test_unchanged_image_is_a_304_without_body(client):
    responses.get(URL, status=304)
    got = fetch_image(client, URL, etag='"v1"')
    assert got.content is None
    assert responses.calls[0].request.headers["If-None-Match"] == '"v1"'


@responses.activate
def test_non_images_and_oversized_images_are_refused(client):
    responses.get(URL, body="<html>", content_type="text/html")
    with pytest.raises(NotAnImage):
        fetch_image(client, URL)
    responses.replace(responses.GET, URL, body=b"x" * 2048, content_type="image/png")
    with pytest.raises(NotAnImage):
        fetch_image(client, URL, max_bytes=1024)


@responses.activate
def test_5xx_is_retried(client):
    responses.get(URL, status=503)
    responses.get(URL, body=b"img", content_type="image/webp")
    assert fetch_image(client, URL).content == b"img"
