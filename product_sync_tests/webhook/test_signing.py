"""Unit tests of the Standard Webhooks checks (``signing``) and of the settings that hold
the secret. Deliveries are signed with the ``standardwebhooks`` package, as a sender would."""

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from product_sync.webhook.app import main
from product_sync.webhook.errors import WebhookError
from product_sync.webhook.settings import Settings, SettingsError, load_settings
from product_sync.webhook.signing import (
    SignedHeaders,
    check_headers,
    secret_key,
    verify_signature,
)
from product_sync_tests.webhook.sender import new_secret, signed_headers

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OLD_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
NOW = 1_700_000_000
BODY = '{"product_ids":[1,2]}'


def checked(headers: dict[str, str], now: float | None = None) -> SignedHeaders:
    return check_headers(headers, time.time() if now is None else now)


def assert_401(call, code: str) -> WebhookError:
    with pytest.raises(WebhookError) as error:
        call()
    assert (error.value.status, error.value.code) == (401, code)
    return error.value


# -- the secret ---------------------------------------------------------------------------


def test_secret_key_is_the_base64_part():
    assert secret_key(SECRET) == KEY
    # Padding is optional (the standardwebhooks package accepts secrets without it).
    assert secret_key(SECRET.rstrip("=")) == KEY
    assert secret_key("whsec_" + base64.b64encode(bytes(25)).decode().rstrip("=")) == bytes(25)


@pytest.mark.parametrize(
    ("secret", "needle"),
    [
        ("0123456789abcdef0123456789abcdef0123", "must start with 'whsec_'"),  # hex, no prefix
        (base64.b64encode(KEY).decode(), "must start with 'whsec_'"),
        ("WHSEC_" + base64.b64encode(KEY).decode(), "must start with 'whsec_'"),
        ("whsec_" + base64.b64encode(KEY).decode()[:-2] + "!!", "not valid base64"),
        ("whsec_" + base64.urlsafe_b64encode(b"\xfb" * 30).decode(), "not valid base64"),
        ("whsec_" + base64.b64encode(KEY).decode() + "A", "not valid base64"),  # 4n+1
        ("whsec_" + base64.b64encode(KEY).decode().replace("A", "A=", 1), "not valid base64"),
        ("whsec_", "too short: its key is 0 bytes"),
        ("whsec_" + base64.b64encode(bytes(23)).decode(), "too short: its key is 23 bytes"),
    ],
)
def test_malformed_secret_is_refused_without_quoting_it(secret, needle):
    with pytest.raises(ValueError, match=needle) as error:
        secret_key(secret)
    body = secret.removeprefix("whsec_")
    assert not body or body not in str(error.value)


# -- header checks (before the body is read) ----------------------------------------------


def test_check_headers_reads_a_standardwebhooks_delivery():
    headers = signed_headers(SECRET, BODY, delivery_id="msg_1", timestamp=NOW)
    assert checked(headers, NOW) == SignedHeaders("msg_1", NOW, headers["webhook-signature"])


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("webhook-id", "missing_webhook_id"),
        ("webhook-timestamp", "missing_timestamp"),
        ("webhook-signature", "missing_signature"),
    ],
)
@pytest.mark.parametrize("value", [None, " "])
def test_missing_header_is_401(name, code, value):
    headers = signed_headers(SECRET, BODY, timestamp=NOW)
    if value is None:
        del headers[name]
    else:
        headers[name] = value
    error = assert_401(lambda: checked(headers, NOW), code)
    assert name in error.message


@pytest.mark.parametrize("delivery_id", ["msg 1", "x" * 129, "msg_\u00e9", "msg_\x00", "msg\t1"])
def test_unusable_webhook_id_is_401(delivery_id):
    headers = {**signed_headers(SECRET, BODY, timestamp=NOW), "webhook-id": delivery_id}
    assert_401(lambda: checked(headers, NOW), "invalid_webhook_id")


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamp_within_five_minutes_is_accepted(offset):
    headers = signed_headers(SECRET, BODY, timestamp=NOW + offset)
    assert checked(headers, NOW).timestamp == NOW + offset


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (str(NOW - 301), "stale_timestamp"),
        (str(NOW + 301), "future_timestamp"),
        ("1700000000.5", "invalid_timestamp"),
        ("-1700000000", "invalid_timestamp"),
        ("1e9", "invalid_timestamp"),
        ("soon", "invalid_timestamp"),
        ("1" * 40, "invalid_timestamp"),
        ("\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660", "invalid_timestamp"),
    ],
)
def test_bad_timestamp_is_401(value, code):
    headers = {**signed_headers(SECRET, BODY, timestamp=NOW), "webhook-timestamp": value}
    assert_401(lambda: checked(headers, NOW), code)


# -- the HMAC (the standardwebhooks package) ----------------------------------------------


def test_standardwebhooks_signature_verifies():
    headers = signed_headers(SECRET, BODY)
    verify_signature([KEY], BODY, checked(headers))


def test_signature_covers_body_id_timestamp_and_secret():
    headers = signed_headers(SECRET, BODY)
    good = checked(headers)
    for keys, body, signed in (
        ([KEY], '{"product_ids":[1,3]}', good),
        ([KEY], BODY, SignedHeaders("msg_other", good.timestamp, good.signature)),
        ([KEY], BODY, SignedHeaders(good.delivery_id, good.timestamp - 1, good.signature)),
        ([secret_key(OLD_SECRET)], BODY, good),
    ):
        assert_401(lambda: verify_signature(keys, body, signed), "invalid_signature")  # noqa: B023


def test_previous_secret_is_accepted_while_rotating():
    headers = signed_headers(OLD_SECRET, BODY)
    verify_signature([KEY, secret_key(OLD_SECRET)], BODY, checked(headers))
    assert_401(lambda: verify_signature([KEY], BODY, checked(headers)), "invalid_signature")


def test_a_sender_may_sign_with_several_secrets():
    headers = signed_headers(OLD_SECRET, BODY)
    new = signed_headers(SECRET, BODY, delivery_id=headers["webhook-id"])
    both = f"{headers['webhook-signature']} {new['webhook-signature']}"
    verify_signature([KEY], BODY, checked({**headers, "webhook-signature": both}))


@pytest.mark.parametrize(
    "signature",
    [
        "v1",  # no comma
        "v1,abc,def",
        "v1,%%%%",
        "v1,YWJj=",  # bad padding
        "v1,YWJj  v1,YWJj",  # two spaces
        "sha256=c2a8c7ce0c9834086bb7a021f5d6d8ef",  # the old scheme
    ],
)
def test_malformed_signature_is_401(signature):
    headers = {**signed_headers(SECRET, BODY), "webhook-signature": signature}
    error = assert_401(lambda: checked(headers), "invalid_signature")
    assert "v1,<base64>" in error.message


@pytest.mark.parametrize("version", ["v2", "v1a"])
def test_only_v1_signatures_count(version):
    headers = signed_headers(SECRET, BODY)
    other = headers["webhook-signature"].replace("v1,", f"{version},", 1)
    error = assert_401(
        lambda: checked({**headers, "webhook-signature": other}), "invalid_signature"
    )
    assert "no v1,<base64> entry" in error.message
    # Beside a v1 entry, other versions are ignored.
    both = f"{other} {headers['webhook-signature']}"
    verify_signature([KEY], BODY, checked({**headers, "webhook-signature": both}))


# -- settings -----------------------------------------------------------------------------


def test_settings_defaults():
    settings = load_settings({"WEBHOOK_SECRET": SECRET})
    assert (settings.host, settings.port) == ("127.0.0.1", 8787)
    assert settings.graphql_url == "http://127.0.0.1:3000/graphql"
    assert settings.run_url("abc") == "http://127.0.0.1:3000/runs/abc"
    assert settings.keys == (KEY,)
    assert settings.is_loopback
    assert SECRET not in repr(settings) and SECRET[6:] not in repr(settings)


def test_settings_from_env():
    settings = load_settings(
        {
            "WEBHOOK_SECRET": f" {SECRET}\n",
            "WEBHOOK_SECRET_PREVIOUS": OLD_SECRET,
            "WEBHOOK_HOST": "0.0.0.0",
            "WEBHOOK_PORT": "9999",
            "DAGSTER_GRAPHQL_URL": "https://dagster.example.com/graphql/",
            "DAGSTER_CODE_LOCATION": "product_sync",
        }
    )
    assert settings.port == 9999 and not settings.is_loopback
    assert settings.ui_url == "https://dagster.example.com"
    assert settings.keys == (KEY, secret_key(OLD_SECRET))
    assert settings.code_location == "product_sync"
    other = load_settings({"WEBHOOK_SECRET": SECRET, "DAGSTER_UI_URL": "http://ui.test/"})
    assert other.run_url("abc") == "http://ui.test/runs/abc"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "WEBHOOK_SECRET is not set"),
        ({"WEBHOOK_SECRET": ""}, "WEBHOOK_SECRET is not set"),
        ({"WEBHOOK_SECRET": "x" * 40}, "WEBHOOK_SECRET must start with 'whsec_'"),
        ({"WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "WEBHOOK_SECRET is too short"),
        ({"WEBHOOK_SECRET": "whsec_not base64!"}, "WEBHOOK_SECRET is not valid base64"),
        (
            {"WEBHOOK_SECRET": SECRET, "WEBHOOK_SECRET_PREVIOUS": "old-secret-0123456789"},
            "WEBHOOK_SECRET_PREVIOUS must start with 'whsec_'",
        ),
        ({"WEBHOOK_SECRET": SECRET, "WEBHOOK_PORT": "http"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_SECRET": SECRET, "WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_SECRET": SECRET, "DAGSTER_GRAPHQL_URL": "localhost:3000"}, "http(s) URL"),
    ],
)
def test_bad_settings(env, needle):
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    assert needle in str(error.value)


def test_settings_built_in_code_check_the_secret_too():
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET must start with 'whsec_'"):
        Settings(secret="test-secret-0123456789")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET_PREVIOUS is too short"):
        Settings(secret=SECRET, previous_secret="whsec_c2hvcnQ=")


def test_main_refuses_to_start_without_secret(monkeypatch, capsys):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    assert main([]) == 2
    assert "WEBHOOK_SECRET is not set" in capsys.readouterr().err


def test_console_script_refuses_to_start_with_a_malformed_secret():
    script = Path(sys.executable).with_name("product-sync-webhook")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "product_sync.webhook"]
    short = new_secret(key_bytes=12)
    for secret, needle in (
        ("not-a-whsec-secret-0123456789", "must start with 'whsec_'"),
        (short, "is too short"),
    ):
        env = {**os.environ, "WEBHOOK_SECRET": secret}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert f"WEBHOOK_SECRET {needle}" in done.stderr
        assert secret.removeprefix("whsec_") not in done.stderr + done.stdout
