"""No secret leaks, even in pieces: generated passwords and tokens with every special
character, written into DATABASE_URL unencoded (as `openssl rand -base64 32` gives them) or
encoded, and tokens with line breaks. Every error line is one of a few fixed shapes that
have no room for a piece of the secret."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import string
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jobs.collect import config as collect_config
from jobs.collect.http import Api, RetryPolicy
from jobs.errors import ApiError, ConfigError
from jobs.redact import MASK, scrub, secrets_from_env
from tests.support.cli import run

SPECIALS = string.punctuation + " \t"
passwords = st.one_of(
    # what `openssl rand -base64 32` prints: 44 characters of A-Z a-z 0-9 + / =
    st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet=string.ascii_letters + string.digits + SPECIALS, min_size=8, max_size=40),
)
USER, HOST, PORT, DB = "monitoring_jobs", "127.0.0.1", 1, "monitoring"
REFUSED = f"error: cannot connect to PostgreSQL at {USER}@{HOST}:{PORT}/{DB}: Connection refused\n"
INVALID = re.compile(
    r"^error: DATABASE_URL is not a valid PostgreSQL URL: "
    r"(its password \(or user\) holds a character such as / or @"
    r"|(invalid percent-encoded token|unexpected spaces found in|missing key/value separator"
    r"|invalid URI query parameter) \"…\""
    r"|a port is not a number from 1 to 65535"
    r"|a host holds characters no host name has|a percent-encoded part is not UTF-8)"
    r"(; percent-encode the password \(docs/security\.md, 'The jobs' URL'\))?\n$"
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=passwords)
@example(password="Ab3x/yz+=Q9kLm2+8vT/Rw==")
@example(password="tail@evil.example.com")
@example(password="1234/x?y@host")
def test_an_unencoded_password_never_shows_in_pieces(
    password: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{USER}:{password}@{HOST}:{PORT}/{DB}")
    code, out, err = run(capsys, "recommendations", "list")
    assert out == ""
    if code == 2:
        assert INVALID.match(err), err
    else:  # parsed as the user meant it: the connection is refused, naming only the server
        assert (code, err) == (1, REFUSED)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=passwords)
def test_an_encoded_password_is_always_accepted_and_never_shown(
    password: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://{USER}:{quote(password, safe='')}@{HOST}:{PORT}/{DB}"
    )
    assert run(capsys, "recommendations", "list") == (1, "", REFUSED)


@given(password=passwords, prefix=st.sampled_from(["", "at ", "url=", "("]))
def test_a_url_password_is_masked_in_every_form(password: str, prefix: str) -> None:
    url = f"postgresql://{USER}:{password}@{HOST}/{DB}"
    secrets = secrets_from_env({"DATABASE_URL": url})
    for form in (password, quote(password, safe=""), quote_plus(password), json.dumps(password)):
        if len(password) >= 4:
            assert password not in scrub(f"{prefix}{form} and {url}", secrets)
    assert scrub(f"{prefix}{url}", secrets).count(MASK) >= 1


# -- tokens -----------------------------------------------------------------------------

tokens = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=12, max_size=40
).filter(lambda t: t.strip() == t and t)


@given(token=tokens, name=st.sampled_from(["VERCEL_TOKEN", "NEON_API_KEY", "UPSTASH_API_KEY"]))
@example(token="tok_abc\r\nX-Evil: 1", name="VERCEL_TOKEN")
@example(token="tok_abcdefgh\n", name="NEON_API_KEY")
def test_a_token_an_http_header_cannot_carry_is_refused_naming_only_the_variable(
    token: str, name: str
) -> None:
    env = {
        "VERCEL_TOKEN": "v" * 20,
        "NEON_API_KEY": "n" * 20,
        "NEON_PROJECT_ID": "p1",
        "UPSTASH_EMAIL": "ops@example.com",
        "UPSTASH_API_KEY": "k" * 20,
        "UPSTASH_DATABASE_IDS": "db1",
    } | {name: token}
    clean = all("!" <= c <= "~" for c in token.strip())
    try:
        collect_config.from_env(env)
    except ConfigError as exc:
        assert not clean
        assert str(exc) == (  # a fixed sentence: no room for any piece of the token
            f"{name} holds a line break, space, control or non-ASCII character: set it "
            "again to exactly the value the provider shows"
        )
    else:
        assert clean


def test_a_token_with_a_line_break_stops_collect_before_anything_is_stored(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, migrated_db: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.setenv("VERCEL_TOKEN", "tok_secret123\r\nX-Injected: yes")
    monkeypatch.setenv("VERCEL_API_URL", "http://127.0.0.1:1")
    code, out, err = run(capsys, "collect")
    assert (code, out) == (2, "")
    assert err == (
        "error: VERCEL_TOKEN holds a line break, space, control or non-ASCII character: set it "
        "again to exactly the value the provider shows\n"
    )
    with psycopg.connect(migrated_db) as conn:
        assert conn.execute('SELECT count(*) FROM "CollectionRun"').fetchone() == (0,)


class Echo(BaseHTTPRequestHandler):
    """Refuses every request and echoes the credential back in the forms APIs use."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        credential = self.headers.get("Authorization", "").partition(" ")[2]
        body = json.dumps(
            {
                "error": {
                    "message": f"bad token {credential} (encoded {quote(credential, safe='')}, "
                    f"form {quote_plus(credential)}, json {json.dumps(credential)})"
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


printable_tokens = st.text(
    alphabet=string.ascii_letters + string.digits + "!#$%&'*+-./:;<=>?@[\\]^_`{|}~\"(),",
    min_size=12,
    max_size=40,
)


async def refused_message(url: str, token: str) -> str:
    async with httpx.AsyncClient() as client:
        api = Api(client, url, headers={"Authorization": f"Bearer {token}"}, policy=RetryPolicy())
        with pytest.raises(ApiError) as refused:
            await api.get_json("/v1/billing/charges")
    return str(refused.value)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(token=printable_tokens)
def test_a_token_echoed_back_in_any_encoding_is_masked(echo_url: str, token: str) -> None:
    message = asyncio.run(refused_message(echo_url, token))
    assert message.startswith("GET /v1/billing/charges: HTTP 401: bad token ***")
    for form in (token, quote(token, safe=""), quote_plus(token), json.dumps(token)[1:-1]):
        assert form not in message, form
