import pytest
import responses

from product_sync.resources.medusa import StoreRejected
from product_sync_tests.resources.medusa.support import BASE, medusa

UPLOADS = f"{BASE}/admin/uploads"
FILES = [("a.png", b"\x89PNG a", "image/png"), ("b.jpg", b"\xff\xd8 b", "image/jpeg")]


@responses.activate
def test_uploaded_files_come_back_as_urls_in_the_order_sent():
    answer = {
        "files": [{"id": "f1", "url": "http://s/a.png"}, {"id": "f2", "url": "http://s/b.jpg"}]
    }
    upload = responses.post(UPLOADS, json=answer)
    assert medusa().upload_files(FILES) == ["http://s/a.png", "http://s/b.jpg"]
    body = upload.calls[0].request.body
    assert b'name="files"; filename="a.png"' in body and b"\x89PNG a" in body
    assert b'filename="b.jpg"' in body


@responses.activate
def test_an_answer_missing_a_file_fails_the_upload():
    responses.post(UPLOADS, json={"files": [{"id": "f1", "url": "http://s/a.png"}]})
    with pytest.raises(StoreRejected, match="uploaded 2 files, the store returned 1"):
        medusa().upload_files(FILES)
