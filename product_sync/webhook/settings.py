"""Settings from the environment, checked before the server starts."""

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from product_sync.webhook.signing import SecretError, secret_key

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_GRAPHQL_URL = "http://127.0.0.1:3000/graphql"
MAX_BODY_BYTES = 1024 * 1024


class SettingsError(ValueError):
    """The environment does not allow the service to start; the message says why."""


@dataclass(frozen=True)
class Settings:
    secret: str = field(repr=False)
    previous_secret: str | None = field(default=None, repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    graphql_url: str = DEFAULT_GRAPHQL_URL
    ui_url: str = ""
    code_location: str | None = None
    public_url: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if not self.ui_url:
            object.__setattr__(self, "ui_url", ui_url_from_graphql(self.graphql_url))
        # Checked here too, so a Settings built in code fails as early as one from the env.
        for name, value in (
            ("WEBHOOK_SECRET", self.secret),
            ("WEBHOOK_SECRET_PREVIOUS", self.previous_secret),
        ):
            if value is not None:
                _key(name, value)

    @property
    def keys(self) -> tuple[bytes, ...]:
        """The HMAC keys a signature may be made with: the current one, then the previous."""
        return tuple(secret_key(s) for s in (self.secret, self.previous_secret) if s)

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url}/runs/{run_id}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def ui_url_from_graphql(graphql_url: str) -> str:
    """``http://host:3000/graphql`` -> ``http://host:3000`` (the UI is served alongside)."""
    url = graphql_url.rstrip("/")
    return url.removesuffix("/graphql")


def _key(name: str, value: str) -> bytes:
    try:
        return secret_key(value)
    except SecretError as exc:
        raise SettingsError(f"{name} {exc}") from None


def _secret(env: Mapping[str, str], name: str, required: bool) -> str | None:
    value = (env.get(name) or "").strip()
    if not value:
        if required:
            raise SettingsError(
                f"{name} is not set: the service will not accept unsigned requests. Set it to "
                'a Standard Webhooks secret (for example `echo "whsec_$(openssl rand -base64 '
                '32)"`) and give the same secret to the sender.'
            )
        return None
    _key(name, value)
    return value


def _http_url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = (env.get(name) or "").strip() or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raises ``SettingsError`` with a readable message."""
    env = os.environ if env is None else env
    secret = _secret(env, "WEBHOOK_SECRET", required=True)
    assert secret is not None
    previous = _secret(env, "WEBHOOK_SECRET_PREVIOUS", required=False)
    port_text = (env.get("WEBHOOK_PORT") or "").strip() or str(DEFAULT_PORT)
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise SettingsError(f"WEBHOOK_PORT must be a port number (1-65535), got {port_text!r}")
    graphql_url = _http_url(env, "DAGSTER_GRAPHQL_URL", DEFAULT_GRAPHQL_URL)
    assert graphql_url is not None
    return Settings(
        secret=secret,
        previous_secret=previous,
        host=(env.get("WEBHOOK_HOST") or "").strip() or DEFAULT_HOST,
        port=port,
        graphql_url=graphql_url,
        ui_url=_http_url(env, "DAGSTER_UI_URL", None) or ui_url_from_graphql(graphql_url),
        code_location=(env.get("DAGSTER_CODE_LOCATION") or "").strip() or None,
        public_url=_http_url(env, "WEBHOOK_PUBLIC_URL", None),
    )
