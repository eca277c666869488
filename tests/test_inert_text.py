"""Text from outside is inert: escaped Markdown renders (CommonMark + GFM tables, by
markdown-it) as exactly the text, with no link, image, emphasis, code, HTML or extra cell;
terminal output holds no control character that acts. Unit properties, then hostile
provider messages, FOCUS files and table rows through collect, list and report."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from jobs.text import markdown, terminal
from tests.support.cli import run
from tests.support.fake_apis import FakeApis, Reply, charge

HOSTILE = (
    "**bold** _em_ [click](https://evil.example/x) ![img](x.png) <img src=x onerror=alert(1)>"
    " <script>alert(1)</script> | cell | `code` ~~gone~~ @org/admins www.evil.example"
    " https://evil.example &amp; \\ \x1b[31mred\x1b[0m\r\x07\u202eevil\u2066 #1"
)
ACTING = {
    "link_open", "image", "em_open", "strong_open", "code_inline", "html_inline",
    "html_block", "s_open", "softbreak", "hardbreak",
}  # fmt: skip
RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def inline_tokens(document: str) -> list[Token]:
    found = []
    for token in RENDERER.parse(document):
        found.append(token)
        found += token.children or []
    return found


def shown(text: str) -> str:
    """What people should see: the text, control characters as escapes, @ not a mention."""
    return terminal(text, lines=False).replace("@", "@\u2060")


def cells(document: str) -> list[str]:
    """The text of each body cell of the first table in ``document``."""
    tokens = RENDERER.parse(document)
    body = tokens[[t.type for t in tokens].index("tbody_open") :]
    return [t.content for t in body if t.type == "inline"]


@given(st.text(max_size=60))
@example(HOSTILE)
@example("a\\")
@example("&#64;team &lt;b&gt;")
@example("[a]\n(b)")
def test_escaped_markdown_renders_as_the_text_itself(text: str) -> None:
    escaped = markdown(text)
    assert "\n" not in escaped
    item = inline_tokens(f"- {escaped}\n")
    assert not {t.type for t in item} & ACTING, escaped
    rendered = "".join(t.content for t in item if t.type == "text")
    assert rendered.strip() == shown(text).strip(), (escaped, rendered)
    blocks = {t.type for t in RENDERER.parse(f"{escaped}\n")}  # a line of its own
    assert blocks <= {"paragraph_open", "inline", "paragraph_close"}, escaped
    item_blocks = [t.type for t in RENDERER.parse(f"- {escaped}\n")]
    assert item_blocks.count("list_item_open") == 1 and "heading_open" not in item_blocks
    table = f"| a | b |\n|---|---|\n| {escaped} | end |\n"
    assert not {t.type for t in inline_tokens(table)} & ACTING
    assert len(cells(table)) == 2 and cells(table)[1] == "end"


@given(st.text(max_size=60))
@example(HOSTILE)
def test_terminal_text_has_no_acting_character(text: str) -> None:
    for keep_lines in (True, False):
        out = terminal(text, lines=keep_lines)
        for char in out:
            if char == "\n" and keep_lines:
                continue
            category = unicodedata.category(char)
            assert category not in ("Cc", "Zl", "Zp"), repr(char)
            assert category != "Cf" or char == "\u2060", repr(char)


# -- through the commands ---------------------------------------------------------------


def acting_tokens(document: str) -> set[str]:
    return {t.type for t in inline_tokens(document)} & ACTING - {"softbreak"}


def no_control(text: str) -> None:
    assert not [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")], text


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("VERCEL_TOKEN", "NEON_API_KEY", "UPSTASH_API_KEY", "UPSTASH_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    step_summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    return step_summary


def test_a_hostile_provider_message_and_file_stay_text(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    clean_env: Path,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    with FakeApis() as apis:
        apis.script("/v1/billing", Reply(401, {"error": {"code": "x", "message": HOSTILE}}))
        for name, value in apis.env(vercel=True).items():
            monkeypatch.setenv(name, value)
        code, out, err = run(capsys, "collect")
    assert code == 1
    no_control(out + err)
    assert "\\x1b[" in out  # shown, not acted on
    focus = tmp_path / "hostile.jsonl"
    line = charge(datetime(2026, 11, 1), HOSTILE, 1.0, "GB", 0.1)
    focus.write_text(json.dumps(line) + "\n")
    code, out, err = run(capsys, "collect", "--focus-file", str(focus))
    no_control(out + err)
    summary = clean_env.read_text(encoding="utf-8")
    assert summary.count("evil.example") >= 2, summary  # both runs' text is there...
    assert acting_tokens(summary) == set(), summary  # ...and inert
    no_control(summary.replace("\u2060", ""))


def test_a_hostile_recommendation_stays_text_in_list_and_report(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    clean_env: Path,
    tmp_path: Path,
) -> None:
    values: dict[str, Any] = {"title": HOSTILE, "reasoning": HOSTILE}
    with psycopg.connect(migrated_db) as conn:  # as the jobs role may insert it
        conn.execute(
            """INSERT INTO "UpgradeRecommendation" (service, "currentPlan", "recommendedPlan",
                   priority, status, title, reasoning)
               VALUES ('VERCEL_BANDWIDTH', 'vercel-hobby', 'vercel-pro', 'HIGH', 'PENDING',
                   %(title)s, %(reasoning)s)""",
            values,
        )
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    code, out, err = run(capsys, "recommendations", "list", "--format", "markdown")
    assert code == 0 and "evil.example" in out
    assert acting_tokens(out) == set(), out
    code, out, err = run(capsys, "recommendations", "list")
    assert code == 0
    no_control(out + err)
    report_md = tmp_path / "summary.md"
    args = ["--out", str(tmp_path / "r.html"), "--markdown", str(report_md)]
    assert run(capsys, "report", *args)[0] == 0
    written = report_md.read_text(encoding="utf-8")
    assert "evil.example" in written and acting_tokens(written) == set(), written
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>alert" not in html
