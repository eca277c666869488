"""Keep secrets out of everything we print: DSN passwords and known tokens."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# userinfo of a URL: scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):(?P<pw>[^@\s]*)@")
# key/value conninfo: password=secret or password='se cret'
_KV_PASSWORD = re.compile(
    r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE
)
MASK = "***"


def redact_dsn(text: str) -> str:
    """Mask passwords in any PostgreSQL URL or key/value conninfo inside ``text``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@" if m["pw"] else m[0], text)
    return _KV_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Mask DSN passwords and every known secret value (longest first) in ``text``."""
    text = redact_dsn(text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


# Environment variables whose values must never be printed.
SECRET_ENV_VARS = (
    "DATABASE_URL",
    "JOBS_DATABASE_URL",
    "VERCEL_TOKEN",
    "NEON_API_KEY",
    "UPSTASH_API_KEY",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_ACCESS_TOKEN",
)


def secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """The secret values present in ``env``, including the password inside a DSN."""
    values = []
    for name in SECRET_ENV_VARS:
        value = env.get(name, "")
        if not value:
            continue
        values.append(value)
        match = _URL_PASSWORD.search(value)
        if match and match["pw"]:
            values.append(match["pw"])
    return values
