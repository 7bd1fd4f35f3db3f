"""The store's signer (``medusa_store/src/lib/product-sync.ts``, behind "Sync now") against
the ``standardwebhooks`` package: the store's TypeScript is compiled with the store's own
esbuild and run in node, and its headers must be the package's, byte for byte.

Needs node and the store's node_modules (as the e2e tests do); takes about a second.
"""

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from product_sync.webhook.settings import Settings
from product_sync.webhook.signing import check_headers, verify_signature
from product_sync_tests.webhook.sender import new_secret

pytestmark = pytest.mark.e2e

STORE = Path(__file__).resolve().parents[2] / "medusa_store"
SOURCE = STORE / "src" / "lib" / "product-sync.ts"

# Prints, for each case read from stdin, the headers or the error the store would answer.
RUNNER = """
const lib = require(process.argv[2])
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"))
const out = cases.map(({ secret, id, timestamp, body }) => {
  try {
    return { headers: lib.signDelivery(lib.secretKey(secret), id, timestamp, body) }
  } catch (error) {
    return { status: error.status, error: error.toJSON ? error.toJSON() : String(error) }
  }
})
process.stdout.write(JSON.stringify(out))
"""


@pytest.fixture(scope="module")
def store_signer(medusa_node_modules, tmp_path_factory):
    out = tmp_path_factory.mktemp("store_signer")
    compiled = out / "product-sync.js"
    subprocess.run(
        [
            str(STORE / "node_modules" / ".bin" / "esbuild"),
            str(SOURCE),
            "--format=cjs",
            "--platform=node",
            f"--outfile={compiled}",
            "--log-level=warning",
        ],
        check=True,
        timeout=60,
    )
    runner = out / "run.js"
    runner.write_text(RUNNER)

    def sign(cases: list[dict]) -> list[dict]:
        done = subprocess.run(
            ["node", str(runner), str(compiled)],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(done.stdout)

    return sign


@pytest.fixture(scope="module")
def medusa_node_modules():
    from devstack.stack import Stack
    from product_sync_tests.conftest import _node_or_fail

    stack = Stack()
    _node_or_fail(stack)
    stack.ensure_node_modules()


def test_store_signs_exactly_as_standardwebhooks(store_signer):
    secret, body, timestamp = new_secret(), "{}", 1_700_000_000
    unpadded = new_secret(key_bytes=25).rstrip("=")
    cases = [
        {"secret": secret, "id": "medusa-admin-1", "timestamp": timestamp, "body": body},
        {"secret": unpadded, "id": "msg_2", "timestamp": timestamp, "body": '{"a":"ü"}'},
    ]
    for case, answer in zip(cases, store_signer(cases), strict=True):
        expected = Webhook(case["secret"]).sign(
            case["id"], datetime.fromtimestamp(case["timestamp"], UTC), case["body"]
        )
        assert answer["headers"] == {
            "webhook-id": case["id"],
            "webhook-timestamp": str(case["timestamp"]),
            "webhook-signature": expected,
        }


def test_the_service_accepts_what_the_store_signs(store_signer):
    secret = new_secret()
    case = {"secret": secret, "id": "medusa-admin-2", "timestamp": int(time.time()), "body": "{}"}
    (answer,) = store_signer([case])
    signed = check_headers(answer["headers"], time.time())
    verify_signature(Settings(secret=secret).keys, "{}", signed)


@pytest.mark.parametrize(
    ("secret", "needle"),
    [
        ("0123456789abcdef0123456789abcdef", "does not start with whsec_"),
        ("whsec_not base64!", "is not valid base64"),
        ("whsec_" + "A" * 33, "is not valid base64"),  # 4n+1 characters
        ("whsec_c2hvcnQ=", "is too short (a 5-byte key"),
    ],
)
def test_store_refuses_a_malformed_secret_clearly(store_signer, secret, needle):
    (answer,) = store_signer([{"secret": secret, "id": "x", "timestamp": 1, "body": "{}"}])
    assert answer["status"] == 503
    assert answer["error"]["error"] == "sync_not_configured"
    assert needle in answer["error"]["message"]
    assert secret.removeprefix("whsec_") not in answer["error"]["message"]
