"""Malformed limits files: each gets its exact one-line problems, and nothing is applied.

Every variant is one edit of tests/data/limits_minimal.yaml (which is valid). For each,
the loader reports exactly the expected problems; the Pulumi program stops before declaring
any resource; ``python -m jobs limits check`` prints the same lines and exits 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from jobs.cli import main
from jobs.errors import LimitsError
from jobs.limits.loader import load, parse
from jobs.limits.model import LimitKind
from tests.support.program import run_program

MINIMAL = (Path(__file__).parent / "data" / "limits_minimal.yaml").read_text(encoding="utf-8")
SERVICES_ALLOWED = (
    "VERCEL_KV, VERCEL_POSTGRES, VERCEL_BLOB, VERCEL_BUILD, VERCEL_FUNCTIONS, "
    "VERCEL_EDGE_REQUESTS, VERCEL_BANDWIDTH, VERCEL_EDGE_CONFIG, VERCEL_IMAGE_OPTIMIZATION, "
    "VERCEL_ORIGIN_TRANSFER, VERCEL_WEB_ANALYTICS, VERCEL_ISR, VERCEL_OTHER"
)
METRICS_ALLOWED = (
    "STORAGE_MB, BANDWIDTH_GB, INVOCATIONS, REQUESTS, OPERATIONS, BUILD_MINUTES, CPU_HOURS, "
    "MEMORY_GB_HOURS, COMPUTE_HOURS, LATENCY_MS, COST_USD, READ_OPERATIONS, WRITE_OPERATIONS, "
    "EVENTS, BUILDS"
)
TOP = "thresholds, business, sources, plans, services, limits, accounts, budgets"
ROW_KEYS = (
    "service, metric, plan, limit, included, overage, hard, warning, critical, resolve, source"
)


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


def whole(new: str) -> Callable[[str], str]:
    return lambda _text: new


def edits(*steps: Callable[[str], str]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        for step in steps:
            text = step(text)
        return text

    return edit


@dataclass(frozen=True)
class Variant:
    name: str
    edit: Callable[[str], str]
    problems: tuple[str, ...]  # with "F" for the file name


VARIANTS = [
    Variant(
        "unknown top-level key",
        append("extra: 1\n"),
        (f"F:14: extra: unknown key; allowed: {TOP}",),
    ),
    Variant(
        "unknown key in a row, with a suggestion",
        replace("warning: 0.8}", "warnign: 0.8}"),
        (f"F:13: limits[2].warnign: unknown key; did you mean warning? allowed: {ROW_KEYS}",),
    ),
    Variant(
        "missing section",
        replace("business: {monthly_revenue_usd: 0, degraded_hours: 0}\n", ""),
        ("F:1: (document): missing key 'business'",),
    ),
    Variant(
        "price of the wrong type",
        replace("monthly_price_usd: 20,", "monthly_price_usd: twenty,"),
        ("F:7: plans.vercel-pro.monthly_price_usd: must be a number, not the text 'twenty'",),
    ),
    Variant(
        "flag of the wrong type",
        replace("hard: true,", "hard: always,"),
        ("F:6: plans.vercel-hobby.hard: must be true or false, not the text 'always'",),
    ),
    Variant(
        "unknown service",
        replace(
            "service: VERCEL_FUNCTIONS, metric: INVOCATIONS, plan: vercel-hobby",
            "service: VERCEL_FUNCTION, metric: INVOCATIONS, plan: vercel-hobby",
        ),
        (
            "F:11: limits[0].service: unknown service 'VERCEL_FUNCTION'; did you mean "
            f"VERCEL_FUNCTIONS? allowed: {SERVICES_ALLOWED}",
        ),
    ),
    Variant(
        "unknown metric",
        replace(
            "metric: INVOCATIONS, plan: vercel-hobby", "metric: INVOCATION, plan: vercel-hobby"
        ),
        (
            "F:11: limits[0].metric: unknown metric 'INVOCATION'; did you mean INVOCATIONS? "
            f"allowed: {METRICS_ALLOWED}",
        ),
    ),
    Variant(
        "row on a plan that is not defined",
        replace("plan: vercel-hobby, limit: 1M", "plan: vercel-enterprise, limit: 1M"),
        (
            "F:11: limits[0].plan: plan 'vercel-enterprise' is not defined under plans; "
            "defined: vercel-hobby, vercel-pro",
        ),
    ),
    Variant(
        "active plan that is not defined",
        replace("{plan: vercel-hobby, revenue_share", "{plan: vercel-team, revenue_share"),
        (
            "F:9: services.VERCEL_FUNCTIONS.plan: plan 'vercel-team' is not defined under "
            "plans; defined: vercel-hobby, vercel-pro",
        ),
    ),
    Variant(
        "threshold above 1",
        replace("warning: 0.8}", "warning: 1.5}"),
        ("F:13: limits[2].warning: must be in (0, 1], not 1.5",),
    ),
    Variant(
        "threshold of 0",
        replace("critical: 0.9,", "critical: 0,"),
        ("F:1: thresholds.critical: must be in (0, 1], not 0",),
    ),
    Variant(
        "warning not below critical",
        replace("warning: 0.8}", "warning: 0.95}"),
        ("F:13: limits[2].warning: warning 0.95 must be below critical 0.9",),
    ),
    Variant(
        "resolve above warning",
        replace("resolve: 0.7}", "resolve: 0.8}"),
        ("F:1: thresholds.resolve: resolve 0.8 must not be above warning 0.75",),
    ),
    Variant(
        "negative overage price",
        replace("$0.15 per GB", "$-0.15 per GB"),
        ("F:13: limits[2].overage: '$-0.15 per GB' is negative; prices must not be negative",),
    ),
    Variant(
        "negative plan price",
        replace("monthly_price_usd: 20,", "monthly_price_usd: -20,"),
        ("F:7: plans.vercel-pro.monthly_price_usd: must be zero or more, not -20",),
    ),
    Variant(
        "duplicate row",
        append(
            "  - {service: VERCEL_FUNCTIONS, metric: INVOCATIONS, plan: vercel-hobby, "
            "limit: 2M invocations}\n"
        ),
        (
            "F:14: limits[3]: duplicate limit VERCEL_FUNCTIONS/INVOCATIONS/vercel-hobby "
            "(first as limits[0] at line 11)",
        ),
    ),
    Variant(
        "limit in a unit that does not fit the metric",
        replace("limit: 1M invocations", "limit: 1 TB"),
        (
            "F:11: limits[0].limit: unit 'TB' does not fit INVOCATIONS "
            "(allowed: invocations, invocation, count)",
        ),
    ),
    Variant(
        "price in a unit that does not fit the metric",
        replace("$0.15 per GB", "$0.15 per request"),
        (
            "F:13: limits[2].overage: unit 'request' does not fit BANDWIDTH_GB "
            "(allowed: GB, B, bytes, KB, MB, TB)",
        ),
    ),
    Variant(
        "document is a list",
        whole("- thresholds\n- limits\n"),
        (f"F:1: (document): must be a mapping with {TOP}, not a list",),
    ),
    Variant(
        "document is a plain word",
        whole("limits\n"),
        (f"F:1: (document): must be a mapping with {TOP}, not the text 'limits'",),
    ),
    Variant(
        "not YAML",
        whole("limits: [ {service: VERCEL_KV\nplans: {}\n"),
        (
            "F:2: (document): not valid YAML: while parsing a flow mapping: "
            "expected ',' or '}', but got ':'",
        ),
    ),
    Variant(
        "empty file",
        whole(""),
        (f"F:1: (document): the file is empty; expected a mapping with {TOP}",),
    ),
    Variant(
        "tab indentation",
        replace("limits:\n  - {", "limits:\n\t- {"),
        (
            "F:11: (document): not valid YAML: while scanning for the next token: "
            "found character '\\t' that cannot start any token",
        ),
    ),
    Variant(
        "two documents",
        append("---\nlimits: []\n"),
        (
            "F:14: (document): not valid YAML: expected a single document in the stream: "
            "but found another document",
        ),
    ),
    Variant(
        "the same key twice in a mapping",
        replace("limit: 1M invocations}", "limit: 1M invocations, plan: vercel-pro}"),
        ("F:11: limits[0].plan: duplicate key (first at line 11)",),
    ),
    Variant(
        "limits is not a list",
        lambda text: text[: text.index("limits:\n")] + "limits: {first: 1}\n",
        ("F:10: limits: must be a list, not a mapping",),
    ),
    Variant(
        "row is not a mapping",
        replace(
            "  - {service: VERCEL_FUNCTIONS, metric: INVOCATIONS, plan: vercel-hobby, "
            "limit: 1M invocations}",
            "  - VERCEL_FUNCTIONS INVOCATIONS 1M",
        ),
        ("F:11: limits[0]: must be a mapping, not the text 'VERCEL_FUNCTIONS INVOCATIONS 1M'",),
    ),
    Variant(
        "row without a limit",
        replace(", limit: 1M invocations}", "}"),
        ("F:11: limits[0]: missing key 'limit'",),
    ),
    Variant(
        "limit of zero",
        replace("limit: 1M invocations", "limit: 0 invocations"),
        ("F:11: limits[0].limit: must be positive, not '0 invocations'",),
    ),
    Variant(
        "limit without a unit",
        replace("limit: 1M invocations", "limit: 1000000"),
        (
            "F:11: limits[0].limit: must be a number and a unit, like '100 GB' or "
            "'1M requests', or 'credit' or 'none', not int 1000000",
        ),
    ),
    Variant(
        "price without a unit",
        replace("overage: $0.15 per GB", "overage: 0.15"),
        (
            "F:13: limits[2].overage: must be a price like '$0.15 per GB' or "
            "'$2.00 per 1M requests', not float 0.15",
        ),
    ),
    Variant(
        "credit on a plan without a usage credit",
        replace(" usage_credit_usd: 20,", ""),
        (
            "F:12: limits[1].limit: limit 'credit' needs a usage credit, and plan vercel-pro "
            "has no usage_credit_usd",
        ),
    ),
    Variant(
        "hard limit with an overage price",
        replace(
            "limit: 1M invocations}", "limit: 1M invocations, overage: $0.60 per 1M invocations}"
        ),
        (
            "F:11: limits[0].overage: a hard limit has no overage price: the feature pauses "
            "instead of being billed",
        ),
    ),
    Variant(
        "source that is not defined",
        replace("[vercel-pro], source: vercel}", "[vercel-pro], source: vercell}"),
        (
            "F:6: plans.vercel-hobby.source: source 'vercell' is not defined under sources; "
            "did you mean vercel? defined: vercel",
        ),
    ),
    Variant(
        "impossible date",
        replace("read: 2026-11-25", "read: 2026-13-45"),
        ("F:4: sources.vercel.read: must be a date like 2026-11-25, not timestamp 2026-13-45",),
    ),
    Variant(
        "source URL without scheme",
        replace('"https://vercel.com/docs/limits"', '"vercel.com/docs/limits"'),
        ("F:4: sources.vercel.url: must be an http(s) URL, not 'vercel.com/docs/limits'",),
    ),
    Variant(
        "revenue share above 1",
        replace("revenue_share: 0.5", "revenue_share: 1.5"),
        ("F:9: services.VERCEL_FUNCTIONS.revenue_share: must be in [0, 1], not 1.5",),
    ),
    Variant(
        "upgrade to a plan that is not defined",
        replace("upgrades_to: [vercel-pro]", "upgrades_to: [vercel-enterprise]"),
        (
            "F:6: plans.vercel-hobby.upgrades_to[0]: plan 'vercel-enterprise' is not defined "
            "under plans; defined: vercel-hobby, vercel-pro",
        ),
    ),
    Variant(
        "active plan without limits for the service",
        replace("services:\n", "services:\n  VERCEL_KV: {plan: vercel-hobby}\n"),
        (
            "F:9: services.VERCEL_KV.plan: plan vercel-hobby has no limits for VERCEL_KV "
            "in this file",
        ),
    ),
    Variant(
        "threshold that is not a number at all",
        replace("warning: 0.8}", "warning: .nan}"),
        ("F:13: limits[2].warning: must be a finite number, not nan",),
    ),
    Variant(
        "included amount above the limit",
        replace("limit: 1 TB,", "limit: 1 TB, included: 2 TB,"),
        ("F:13: limits[2].included: included 2,000 GB is more than the limit 1,000 GB",),
    ),
    Variant(
        "several problems at once, in file order",
        edits(
            replace("warning: 0.8}", "warning: 2}"),
            replace("resolve: 0.7}", "resolve: 0.7, extra: 1}"),
            replace("metric: INVOCATIONS, plan: vercel-pro", "metric: PAGES, plan: vercel-pro"),
        ),
        (
            "F:1: thresholds.extra: unknown key; allowed: warning, critical, resolve",
            f"F:12: limits[1].metric: unknown metric 'PAGES'; allowed: {METRICS_ALLOWED}",
            "F:13: limits[2].warning: must be in (0, 1], not 2",
        ),
    ),
]


def expected(variant: Variant, file: str) -> list[str]:
    return [problem.replace("F:", f"{file}:", 1) for problem in variant.problems]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.declared: list[str] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        self.declared.append(args.name)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


def test_the_minimal_file_is_valid() -> None:
    limits = parse(MINIMAL, "limits.yaml")
    assert [x.kind for x in limits.limits] == [
        LimitKind.ALLOWANCE,
        LimitKind.CREDIT,
        LimitKind.ALLOWANCE,
    ]
    assert len(VARIANTS) >= 25


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_malformed_file_gets_its_exact_problems(variant: Variant) -> None:
    with pytest.raises(LimitsError) as failed:
        parse(variant.edit(MINIMAL), "limits.yaml")
    assert list(failed.value.problems) == expected(variant, "limits.yaml")
    count = len(variant.problems)
    summary = f"limits.yaml has {count} problem{'s' if count > 1 else ''}: "
    assert str(failed.value) == summary + "; ".join(expected(variant, "limits.yaml"))
    assert "\n" not in str(failed.value)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_malformed_file_declares_nothing_and_fails_check(
    variant: Variant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "limits.yaml"
    path.write_text(variant.edit(MINIMAL), encoding="utf-8")
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError) as failed:
        run_program(mocks, {"limitsFile": str(path)})
    assert str(failed.value).endswith("; ".join(expected(variant, str(path))))
    assert mocks.declared == []  # not one resource: nothing reaches the database

    assert main(["limits", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert (out, err.splitlines()) == ("", expected(variant, str(path)))


def test_files_that_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"limits: []\n\xff\xfe\n")
    cases = {
        missing: f"{missing}: (document): no such file",
        tmp_path: f"{tmp_path}: (document): is a directory",
        binary: f"{binary}: (document): not UTF-8 text (byte 11)",
    }
    for path, problem in cases.items():
        with pytest.raises(LimitsError) as failed:
            load(path)
        assert failed.value.problems == (problem,)
        assert main(["limits", "check", str(path)]) == 1
        assert capsys.readouterr().err == problem + "\n"


def test_anchors_merge_keys_and_comments_are_allowed() -> None:
    text = MINIMAL.replace(
        "  - {service: VERCEL_FUNCTIONS, metric: INVOCATIONS, plan: vercel-hobby, "
        "limit: 1M invocations}",
        "  # Hobby functions share everything but the metric.\n"
        "  - &hobby-fn {service: VERCEL_FUNCTIONS, metric: INVOCATIONS, plan: vercel-hobby, "
        "limit: 1M invocations}\n"
        "  - {<<: *hobby-fn, metric: CPU_HOURS, limit: 4 CPU-hours, critical: 0.95}",
    )
    limits = parse(text, "limits.yaml")
    cpu = limits.limit("VERCEL_FUNCTIONS", "CPU_HOURS", "vercel-hobby")
    assert cpu is not None
    assert (cpu.limit_value, cpu.is_hard, cpu.thresholds.critical, cpu.line) == (
        4.0,
        True,
        0.95,
        13,
    )
    # A problem in a merged value is reported where the value is written.
    broken = text.replace("plan: vercel-hobby, limit: 1M", "plan: vercel-hobbit, limit: 1M")
    with pytest.raises(LimitsError) as failed:
        parse(broken, "limits.yaml")
    assert [p.split(": ")[0:2] for p in failed.value.problems] == [
        ["limits.yaml:12", "limits[0].plan"],
        ["limits.yaml:12", "limits[1].plan"],
    ]


def test_the_check_command_accepts_a_valid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert main(["limits", "check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok, 3 limits in 2 plans (3 table rows)\n"
    assert main(["limits", "check"]) == 0  # the project's own limits.yaml
    assert capsys.readouterr().out.startswith("limits.yaml: ok, ")


# Scalar values of the minimal file, which the property below replaces one at a time.
_VALUE = re.compile(r"(?<=: )[^,{}\[\]\n]+")
_VALUES = list(_VALUE.finditer(MINIMAL))
_PROBLEM = re.compile(r"^limits\.yaml(:\d+)?: \S+: \S.*$")
tricky = st.sampled_from(
    [
        "",
        "~",
        "null",
        "[]",
        "{}",
        "-1",
        "0",
        ".inf",
        "yes",
        "&a x",
        "*b",
        "!!binary x",
        "'",
        '"',
        "1e999",
        "2026-02-30",
        "$",
        "$1 per",
        "1 K GB",
        "credit",
        "none",
        "::",
        "- x",
    ]
)
replacement = st.one_of(tricky, st.text(max_size=12), st.floats(allow_nan=True).map(str))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(_VALUES) - 1), value=replacement)
def test_any_edit_loads_or_reports_one_line_problems(index: int, value: str) -> None:
    """Whatever one value becomes, the loader never raises anything but LimitsError, and
    every problem is one line naming file, line and key."""
    match = _VALUES[index]
    text = MINIMAL[: match.start()] + value + MINIMAL[match.end() :]
    try:
        parse(text, "limits.yaml")
    except LimitsError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert _PROBLEM.match(problem), problem
