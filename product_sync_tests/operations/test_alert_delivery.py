"""Alerts reach a real HTTP receiver on loopback; failures are retried, then reported
without the webhook URL (it holds a token); unset, nothing is sent and nothing breaks."""

import dagster as dg
import pytest

from product_sync import names
from product_sync.defs.operations import alerts
from product_sync.resources.alerts import AlertConfigError, check_url, post_alert
from product_sync.resources.http import ClientError, RetryPolicy, TransientError
from product_sync_tests.operations.receiver import alert_receiver

FAST = RetryPolicy(max_retries=2, initial_backoff_s=0.01, max_backoff_s=0.01)


class Log:
    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def info(self, msg):
        self.lines.append(("info", msg))

    def warning(self, msg):
        self.lines.append(("warning", msg))

    def error(self, msg):
        self.lines.append(("error", msg))


class Context:
    def __init__(self):
        self.log = Log()


def test_post_alert_sends_json_text():
    with alert_receiver() as receiver:
        assert post_alert(receiver.url, "hello") == 200
    (got,) = receiver.received
    assert got.content_type == "application/json"
    assert got.body == {"text": "hello"}
    assert got.path == "/services/T000/B000/not-a-real-token"


def test_post_alert_retries_5xx_and_429_then_delivers():
    with alert_receiver() as receiver:
        receiver.statuses = [503, 429]
        assert post_alert(receiver.url, "again", policy=FAST) == 200
    assert [r.body for r in receiver.received] == [{"text": "again"}] * 3


def test_post_alert_gives_up_without_naming_the_url():
    with alert_receiver() as receiver:
        receiver.statuses = [500, 500, 500]
        with pytest.raises(TransientError) as failed:
            post_alert(receiver.url, "x", policy=FAST)
        assert len(receiver.received) == 3
        receiver.statuses = [400]
        with pytest.raises(ClientError) as refused:
            post_alert(receiver.url, "x", policy=FAST)
        assert len(receiver.received) == 4  # a 4xx is not retried
    for error in (failed.value, refused.value):
        assert "not-a-real-token" not in str(error) and "127.0.0.1" not in str(error)
        assert "the alert webhook" in str(error)


def test_unreachable_receiver_is_a_transient_error():
    with alert_receiver() as receiver:
        url = receiver.url
    with pytest.raises(TransientError) as failed:
        post_alert(url, "x", policy=FAST)
    assert failed.value.status is None and "not-a-real-token" not in str(failed.value)


@pytest.mark.parametrize("bad", ["hooks.slack.com/services/x", "ftp://h/x", "https:///secret-path"])
def test_a_bad_webhook_setting_is_refused_clearly_without_echoing_it(bad):
    with pytest.raises(AlertConfigError) as refused:
        check_url(bad, names.ALERT_WEBHOOK_ENV)
    assert names.ALERT_WEBHOOK_ENV in str(refused.value) and bad not in str(refused.value)


def test_deliver_sends_nothing_when_unset(monkeypatch):
    monkeypatch.delenv(names.ALERT_WEBHOOK_ENV, raising=False)
    with alert_receiver() as receiver:
        outcome = alerts.deliver(Context(), "text")
    assert isinstance(outcome, dg.SkipReason)
    assert names.ALERT_WEBHOOK_ENV in outcome.skip_message and "not set" in outcome.skip_message
    assert receiver.received == []


def test_deliver_redacts_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv("MEDUSA_API_KEY", "sk_secret_value_123")
    with alert_receiver() as receiver:
        monkeypatch.setenv(names.ALERT_WEBHOOK_ENV, receiver.url)
        outcome = alerts.deliver(Context(), f"key sk_secret_value_123 url {receiver.url}")
    assert outcome.skip_message == "alert sent (HTTP 200)"
    (text,) = receiver.texts()
    assert "sk_secret_value_123" not in text and "not-a-real-token" not in text
    assert text == "key [redacted] url [redacted]"


def test_deliver_reports_a_failed_delivery_and_does_not_raise(monkeypatch):
    monkeypatch.setattr(alerts, "post_alert", lambda url, text: post_alert(url, text, policy=FAST))
    context = Context()
    with alert_receiver() as receiver:
        receiver.statuses = [502, 502, 502]
        monkeypatch.setenv(names.ALERT_WEBHOOK_ENV, receiver.url)
        outcome = alerts.deliver(context, "t")
    assert outcome.skip_message.startswith("alert not delivered: POST the alert webhook -> 502")
    assert [level for level, _ in context.log.lines] == ["warning"]
    assert all("not-a-real-token" not in line for _, line in context.log.lines)


def test_deliver_refuses_a_malformed_setting_without_sending(monkeypatch):
    monkeypatch.setenv(names.ALERT_WEBHOOK_ENV, "hooks.example/secret-token")
    context = Context()
    outcome = alerts.deliver(context, "t")
    assert outcome.skip_message.startswith("no alert sent:")
    assert "secret-token" not in outcome.skip_message
    assert context.log.lines[0][0] == "error"


def test_run_links_use_the_configured_ui(monkeypatch):
    monkeypatch.delenv(names.DAGSTER_UI_URL_ENV, raising=False)
    assert alerts.ui_url() == "http://127.0.0.1:3000"
    monkeypatch.setenv(names.DAGSTER_UI_URL_ENV, "https://dagster.shop.example")
    assert alerts.ui_url() == "https://dagster.shop.example"
