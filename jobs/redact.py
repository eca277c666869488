"""Keep secrets out of everything we print or store: DSN passwords and known tokens."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote, unquote_plus

# userinfo of a URL: scheme://user:password@host -> scheme://user:***@host
# (greedy to the last "@": a password holding an unencoded "@" is masked whole)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):(?P<pw>\S*)@")
# key/value conninfo: password=secret or password='se cret'
_KV_PASSWORD = re.compile(
    r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE
)
MASK = "***"


def redact_dsn(text: str) -> str:
    """Mask passwords in any PostgreSQL URL or key/value conninfo inside ``text``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@" if m["pw"] else m[0], text)
    return _KV_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)


def secret_forms(secret: str) -> list[str]:
    """A secret as it may come back to us: as is, percent-decoded and percent-encoded (URL
    parts, form bodies), JSON-escaped (``/`` as ``\\/`` too) and HTML-escaped."""
    escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
    return [
        secret,
        unquote(secret),
        unquote_plus(secret),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret, safe=""),
        escaped,
        escaped.replace("/", "\\/"),
        json.dumps(secret)[1:-1],
        html.escape(secret),
    ]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Mask DSN passwords and every known secret value, in each of its forms (longest
    first), in ``text``."""
    text = redact_dsn(text)
    forms = {form for s in secrets if s for form in secret_forms(s) if len(form) >= 4}
    for secret in sorted(forms, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def dsn_secrets(dsn: str) -> list[str]:
    """The password inside a PostgreSQL URL or conninfo: as written, as the URL's parts say
    (everything between the first ``:`` of the user info and its last ``@``, so an unencoded
    ``/`` or ``@`` stays inside it), and as libpq reads it."""
    # Imported here: the CLI imports this module, and `--help` should not load the driver.
    import psycopg
    from psycopg import conninfo

    found = []
    match = _URL_PASSWORD.search(dsn)
    if match and match["pw"]:
        found.append(match["pw"])
    _, scheme, rest = dsn.partition("://")
    if scheme and "@" in rest:
        _user, colon, written = rest.rsplit("@", 1)[0].partition(":")
        if colon and written:
            found.append(written)
    try:
        password = conninfo.conninfo_to_dict(dsn).get("password")
    except (psycopg.Error, UnicodeDecodeError):  # not a valid DSN: the forms above it is
        password = None
    if password:
        found.append(str(password))
    return found


def credential_forms(user: str | None, secret: str) -> list[str]:
    """A secret and the encodings it travels in: HTTP Basic ``base64(user:secret)``."""
    forms = [secret]
    if user is not None:
        forms.append(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return forms


# Environment variables whose values must never be printed.
SECRET_ENV_VARS = (
    "DATABASE_URL",
    "JOBS_DATABASE_URL",
    "VERCEL_TOKEN",
    "NEON_API_KEY",
    "UPSTASH_API_KEY",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_ACCESS_TOKEN",
    # notify's receivers (notifications.yaml may name others; notify scrubs those too)
    "SLACK_WEBHOOK_URL",
    "NOTIFY_WEBHOOK_URL",
    "GITHUB_TOKEN",
)


def secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """The secret values present in ``env``, with the password inside a DSN and the Basic
    credential Upstash is called with."""
    values = []
    for name in SECRET_ENV_VARS:
        value = env.get(name, "").strip()
        if not value:
            continue
        values.append(value)
        values += dsn_secrets(value)
    upstash_key = env.get("UPSTASH_API_KEY", "").strip()
    if upstash_key:
        values += credential_forms(env.get("UPSTASH_EMAIL", "").strip(), upstash_key)
    return values
