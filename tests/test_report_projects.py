"""Cost per project in the report: per account, each project's cost (EffectiveCost) and
billed cost this billing period with its share, and the top projects of each limited
meter; on rows written through the collection's storage path, as of ``--now``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from jobs.limits.loader import load as load_limits
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.report.data import gather
from jobs.report.projects import top_projects
from jobs.usage import ProjectUsage
from tests.support.cli import run, write_daily
from tests.test_inert_text import HOSTILE, acting_tokens, cells

NOW = "2026-11-20T12:30"  # the November windows that ended by then: Nov 1 .. Nov 19
NOV_1 = datetime(2026, 11, 1)
DAYS = 20  # Nov 1 .. Nov 20; the window of Nov 20 ends after NOW


def daily(
    dsn: str,
    service: str,
    metric: str,
    value: float,
    project: str = "",
    name: str | None = None,
    billed: float | None = None,
    first: datetime = NOV_1,
    days: int = DAYS,
) -> None:
    """``value`` a day of one project, with its ProjectName and billed cost when given."""
    metadata = {
        key: v for key, v in (("projectName", name), ("billedCost", billed)) if v is not None
    }
    write_daily(
        dsn,
        first,
        [value] * days,
        service=service,
        metric=metric,
        project=project,
        metadata=metadata,
    )


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, migrated_db: str) -> str:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return migrated_db


def report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str, now: str = NOW
) -> tuple[str, str]:
    """The HTML page and the Markdown summary of ``report`` as of ``now``."""
    out, md = tmp_path / "r.html", tmp_path / "summary.md"
    args = ["report", "--out", str(out), "--markdown", str(md), "--now", now, *extra]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    return out.read_text(encoding="utf-8"), md.read_text(encoding="utf-8")


@pytest.fixture
def projects(db: str) -> str:
    """The Vercel team as of NOW (19 days): the shop $1.50 a day in functions (billed $1)
    and $0.25 in bandwidth (no billed cost kept: billed as its value), the api $0.50, builds
    of no project $0.20; a project whose only window ends after NOW; the shop's October
    day (another period). Neon: $1 a day of no project. Bandwidth per project, in GB a day:
    shop 2, api 1, blog 0.5, docs 0.25, no project 0.1."""
    cost = "COST_USD"
    daily(db, "VERCEL_FUNCTIONS", cost, 1.5, "prj_shop", "shop", billed=1.0)
    daily(db, "VERCEL_FUNCTIONS", cost, 0.5, "prj_api", "api", billed=0.5)
    daily(db, "VERCEL_BANDWIDTH", cost, 0.25, "prj_shop", "shop")
    daily(db, "VERCEL_BUILD", cost, 0.2)
    daily(
        db, "VERCEL_FUNCTIONS", cost, 100.0, "prj_late", "late", first=NOV_1 + timedelta(19), days=1
    )
    daily(
        db, "VERCEL_FUNCTIONS", cost, 50.0, "prj_shop", "shop", first=NOV_1 - timedelta(1), days=1
    )
    daily(db, "VERCEL_POSTGRES", cost, 1.0)
    for project, name, gb in (
        ("prj_shop", "shop", 2.0),
        ("prj_api", "api", 1.0),
        ("prj_blog", "blog", 0.5),
        ("prj_docs", None, 0.25),
        ("", None, 0.1),
    ):
        daily(db, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", gb, project, name)
    return db


def test_cost_per_project_sums_to_the_account_total(projects: str) -> None:
    limits = load_limits(DEFAULT_LIMITS_FILE)
    with psycopg.connect(projects) as conn:
        data = gather(conn, limits, datetime.fromisoformat(NOW), timedelta(days=90))
    by_account = {c.account: c for c in data.project_costs}
    assert list(by_account) == ["vercel-team", "neon"]  # upstash has no cost
    for account, costs in by_account.items():
        services = [s.service for s in limits.account_services(account)]
        total = sum(data.costs.get(s, 0.0) for s in services)
        assert sum(p.value for p in costs.projects) == pytest.approx(total)
        assert costs.total == pytest.approx(total)
        assert sum(p.billed or 0.0 for p in costs.projects) == pytest.approx(costs.billed)
        assert sum(p.share or 0.0 for p in costs.projects) == pytest.approx(1.0)
    team = by_account["vercel-team"]
    assert [(p.label, round(p.value, 2), round(p.billed or 0, 2)) for p in team.projects] == [
        ("shop", 33.25, 23.75),  # 19 x (1.50 + 0.25); billed 19 x (1 + 0.25)
        ("api", 9.5, 9.5),
        ("(no project)", 3.8, 3.8),
    ]
    assert (round(team.total, 2), round(team.billed, 2)) == (46.55, 37.05)
    assert [(p.label, p.value) for p in by_account["neon"].projects] == [("(no project)", 19.0)]


def test_the_report_shows_cost_per_project_and_top_projects(
    capsys: pytest.CaptureFixture[str], projects: str, tmp_path: Path
) -> None:
    html, markdown = report(capsys, tmp_path)
    section = html[html.index('<h2 id="projects">') :]
    for row in (
        '<td>shop</td><td class="num">$33.25</td><td class="num">$23.75</td>'
        '<td class="num">71%</td>',
        '<td>api</td><td class="num">$9.50</td><td class="num">$9.50</td><td class="num">20%</td>',
        '<td>(no project)</td><td class="num">$3.80</td><td class="num">$3.80</td>'
        '<td class="num">8%</td>',
        '<td class="num"><strong>$46.55</strong></td><td class="num"><strong>$37.05</strong>',
        '<td>(no project)</td><td class="num">$19.00</td><td class="num">$19.00</td>'
        '<td class="num">100%</td>',
        '<td><code>VERCEL_BANDWIDTH/BANDWIDTH_GB</code></td><td>shop</td><td class="num">38 GB'
        '</td><td class="num">52%</td>',
        '<td>2 other projects</td><td class="num">6.65 GB</td><td class="num">9%</td>',
    ):
        assert row in section, row
    assert section.index("<h3>vercel-team</h3>") < section.index("<h3>neon</h3>")
    assert "late" not in section and "$100" not in section and "$50" not in section
    for line in (
        "#### Cost per project: vercel-team",
        "| shop | $33.25 | $23.75 | 71% |",
        "| api | $9.50 | $9.50 | 20% |",
        "| (no project) | $3.80 | $3.80 | 8% |",
        "| total | $46.55 | $37.05 | 100% |",
        "| `VERCEL_BANDWIDTH/BANDWIDTH_GB` | shop | 38 GB | 52% |",
        "| `VERCEL_BANDWIDTH/BANDWIDTH_GB` | api | 19 GB | 26% |",
        "| `VERCEL_BANDWIDTH/BANDWIDTH_GB` | blog | 9.5 GB | 13% |",
        "| `VERCEL_BANDWIDTH/BANDWIDTH_GB` | 2 other projects | 6.65 GB | 9% |",
    ):
        assert line in markdown.splitlines(), line


def test_now_excludes_windows_that_end_later(
    capsys: pytest.CaptureFixture[str], projects: str, tmp_path: Path
) -> None:
    """A day later, the window of Nov 20 has ended: the late project and each project's
    20th day count."""
    lines = report(capsys, tmp_path, now="2026-11-21T00:00")[1].splitlines()
    assert "| late | $100.00 | $100.00 | 67% |" in lines  # 100 of 149
    assert "| shop | $35.00 | $25.00 | 23% |" in lines
    assert "| total | $149.00 | $139.00 | 100% |" in lines


def test_a_hostile_project_name_stays_text(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    daily(db, "VERCEL_FUNCTIONS", "COST_USD", 1.0, "prj_x", HOSTILE)
    daily(db, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", 1.0, "<b>prj</b>")
    html, markdown = report(capsys, tmp_path)
    costs = markdown[markdown.index("#### Cost per project") : markdown.index("#### Top")]
    assert "evil.example" in costs and acting_tokens(costs) == set(), costs
    assert len(cells(costs)) == 8  # two rows of four cells: no cell added by a "|"
    meters = markdown[markdown.index("#### Top") :]
    assert "prj" in meters and acting_tokens(meters) == {"code_inline"}, meters  # the meter
    for tag in ("<img src=x", "<script>alert", "<b>prj"):
        assert tag not in html, tag
    assert "&lt;b&gt;prj&lt;/b&gt;" in html and "&lt;script&gt;alert(1)" in html


def test_top_projects_leave_out_meters_without_projects_and_a_maximum_has_no_share() -> None:
    rows = [
        ProjectUsage("VERCEL_FUNCTIONS", "LATENCY_MS", "a", None, 120.0, None),
        ProjectUsage("VERCEL_FUNCTIONS", "LATENCY_MS", "b", "B", 80.0, None),
        ProjectUsage("VERCEL_FUNCTIONS", "LATENCY_MS", "c", None, 95.0, None),
        ProjectUsage("VERCEL_BANDWIDTH", "BANDWIDTH_GB", "", None, 5.0, 5.0),
    ]
    meters = [("VERCEL_BANDWIDTH", "BANDWIDTH_GB"), ("VERCEL_FUNCTIONS", "LATENCY_MS")]
    (latency,) = top_projects(meters, rows, top=2)
    assert [(p.label, p.value, p.share) for p in latency.top] == [
        ("a", 120.0, None),
        ("c", 95.0, None),
    ]
    assert latency.rest is not None
    assert (latency.rest.label, latency.rest.value, latency.rest.share) == (
        "1 other project",
        80.0,
        None,
    )


def test_the_pro_demo_shows_its_projects_from_the_focus_export(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    """The demo's export, imported as ``scripts/run`` does: the shop draws 70 % of every
    usage line, the api 30 %, so of the cost and of each limited meter."""
    samples = Path(__file__).resolve().parent.parent / "samples"
    code, _, err = run(capsys, "collect", "--focus-file", str(samples / "pro-team.focus.jsonl"))
    assert code == 0, err
    limits = ["--limits", str(samples / "pro-team.limits.yaml")]
    lines = report(capsys, tmp_path, *limits, now="2026-11-16T09:00")[1].splitlines()
    table = lines[lines.index("#### Cost per project: vercel-team") + 4 :][:3]
    assert [row.split(" | ")[0] for row in table] == ["| shop", "| api", "| total"]
    assert [row.split(" | ")[3] for row in table] == ["70% |", "30% |", "100% |"]
    meters = [row for row in lines if row.startswith("| `VERCEL_BANDWIDTH/BANDWIDTH_GB` |")]
    assert [row.split(" | ")[1] for row in meters] == ["shop", "api"]
    assert [row.split(" | ")[-1] for row in meters] == ["70% |", "30% |"]
