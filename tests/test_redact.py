from __future__ import annotations

from jobs.redact import redact_dsn, scrub, secrets_from_env


def test_url_passwords_are_masked_wherever_they_appear() -> None:
    text = "cannot use postgresql://app:hunter22@db:5432/x and postgres://u:p%40ss@h/y"
    assert redact_dsn(text) == "cannot use postgresql://app:***@db:5432/x and postgres://u:***@h/y"


def test_keyword_passwords_are_masked() -> None:
    assert redact_dsn("host=db password='a b c' user=x") == "host=db password=*** user=x"
    assert redact_dsn("password=hunter22 host=db") == "password=*** host=db"


def test_urls_without_password_stay_readable() -> None:
    assert redact_dsn("postgresql://app@db/x") == "postgresql://app@db/x"


def test_known_secrets_and_dsn_passwords_from_the_environment_are_scrubbed() -> None:
    env = {
        "VERCEL_TOKEN": "tok_abcdef",
        "DATABASE_URL": "postgresql://a:pw-1234@h/d",
        "HOME": "/root",
    }
    secrets = secrets_from_env(env)
    assert "pw-1234" in secrets and "/root" not in secrets
    assert scrub("token tok_abcdef then pw-1234", secrets) == "token *** then ***"
