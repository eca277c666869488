"""Load the limits file into frozen, validated objects, or report every problem at once
(with its line: the YAML reading is ``jobs.yamlfile``'s). Nothing is returned unless the
whole file is valid.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from yaml.nodes import Node

from jobs.errors import LimitsError
from jobs.limits import quantities
from jobs.limits.model import (
    Account,
    Budget,
    Business,
    Key,
    Limit,
    LimitKind,
    LimitsFile,
    Plan,
    ServiceSettings,
    Source,
    Thresholds,
    key_label,
)
from jobs.model import METRIC_TYPES, SERVICES
from jobs.yamlfile import (
    Fields,
    Reader,
    allowed_list,
    line_of,
    raise_problems,
    read_text,
    read_top,
    suggest,
)

TOP_KEYS = ("thresholds", "business", "sources", "plans", "services", "limits")
# Optional: without `accounts`, each vendor's services form one implied account.
OPTIONAL_TOP_KEYS = ("accounts", "budgets")
ACCOUNT_REQUIRED = ("plan",)
BUDGET_REQUIRED = ("account", "monthly_usd")
BUDGET_OPTIONAL = ("project",)
THRESHOLD_KEYS = ("warning", "critical", "resolve")
BUSINESS_KEYS = ("monthly_revenue_usd", "degraded_hours")
SOURCE_KEYS = ("url", "read")
PLAN_REQUIRED = ("vendor", "monthly_price_usd", "source")
PLAN_OPTIONAL = ("usage_credit_usd", "hard", "upgrades_to", "purchase")
SERVICE_OPTIONAL = ("account", "plan", "revenue_share", "degraded_hours")
LIMIT_REQUIRED = ("service", "metric", "plan", "limit")
LIMIT_OPTIONAL = ("included", "overage", "hard", *THRESHOLD_KEYS, "source")

URL = re.compile(r"^https?://\S+$")


def load(path: str | Path, name: str | None = None) -> LimitsFile:
    """Read and validate ``path`` (``name`` in messages, default the path as given); raises
    LimitsError listing every problem."""
    name = name or str(path)
    return parse(read_text(path, name, LimitsError), name)


def parse(text: str, file: str) -> LimitsFile:
    """Validate the text of a limits file; ``file`` names it in messages."""
    reader = Reader()
    result = _read_document(reader, text, file)
    raise_problems(reader, file, LimitsError)
    assert result is not None  # no problems means a document
    return result


def _read_document(r: Reader, text: str, file: str) -> LimitsFile | None:
    top = read_top(r, text, TOP_KEYS, OPTIONAL_TOP_KEYS)
    if top is None:
        return None

    def section(key: str) -> Node | None:
        return top[key][1] if key in top else None

    thresholds = _thresholds(r, section("thresholds"))
    business = _business(r, section("business"))
    sources = _sources(r, section("sources"))
    plans = _plans(r, section("plans"), sources)
    before = len(r.problems)
    limits = _limits(r, section("limits"), plans, sources, thresholds)
    # Rows that name a plan with problems of its own (or lack default thresholds) are left
    # out silently; then "no limits for this service" would not be true.
    complete = len(r.problems) == before and thresholds is not None and all(plans.values())
    accounts = _accounts(r, section("accounts"), plans) if "accounts" in top else None
    services, implied = _services(
        r, section("services"), plans, business, limits if complete else None, accounts
    )
    all_accounts = [a for a in (accounts or {}).values() if a is not None] + implied
    budgets = _budgets(r, section("budgets"), {a.name for a in all_accounts}, accounts)
    if r.problems or thresholds is None or business is None:
        return None
    return LimitsFile(
        path=file,
        thresholds=thresholds,
        business=business,
        sources=tuple(s for s in sources.values() if s is not None),
        plans=tuple(p for p in plans.values() if p is not None),
        services=tuple(services),
        limits=tuple(limits.values()),
        accounts=tuple(all_accounts),
        budgets=tuple(budgets),
    )


def _threshold_values(
    r: Reader, entries: dict[str, tuple[Node, Node]], path: str
) -> dict[str, float]:
    """The thresholds given in ``entries``, each in (0, 1]."""
    values = {}
    for key in THRESHOLD_KEYS:
        if key in entries:
            value = r.number(entries[key][1], f"{path}.{key}", positive=True, high=1.0)
            if value is not None:
                values[key] = value
    return values


def _check_order(
    r: Reader,
    values: dict[str, float],
    given: dict[str, tuple[Node, Node]],
    path: str,
    fallback: Node,
) -> bool:
    """0 < resolve <= warning < critical; blames a key this mapping sets, when it sets one."""

    def blame(*keys: str) -> tuple[Node, str]:
        for key in keys:
            if key in given:
                return given[key][1], f"{path}.{key}"
        return fallback, path

    warning, critical, resolve = (values[k] for k in THRESHOLD_KEYS)
    ok = True
    if warning >= critical:
        node, where = blame("warning", "critical")
        r.fail(node, where, f"warning {warning:g} must be below critical {critical:g}")
        ok = False
    if resolve > warning:
        node, where = blame("resolve", "warning")
        r.fail(node, where, f"resolve {resolve:g} must not be above warning {warning:g}")
        ok = False
    return ok


def _thresholds(r: Reader, node: Node | None) -> Thresholds | None:
    if node is None:
        return None
    entries = r.mapping(node, "thresholds", required=THRESHOLD_KEYS)
    if entries is None:
        return None
    values = _threshold_values(r, entries, "thresholds")
    if len(values) != len(THRESHOLD_KEYS):
        return None
    if not _check_order(r, values, entries, "thresholds", node):
        return None
    return Thresholds(**values)


def _business(r: Reader, node: Node | None) -> Business | None:
    if node is None:
        return None
    entries = r.mapping(node, "business", required=BUSINESS_KEYS)
    if entries is None:
        return None
    values = {
        key: r.number(entries[key][1], f"business.{key}") for key in BUSINESS_KEYS if key in entries
    }
    revenue, hours = values.get("monthly_revenue_usd"), values.get("degraded_hours")
    if revenue is None or hours is None:
        return None
    return Business(monthly_revenue_usd=revenue, degraded_hours=hours)


def _named_entries(r: Reader, node: Node | None, path: str, what: str) -> list[tuple[str, Node]]:
    """(name, value node) for a mapping keyed by names (sources, plans)."""
    if node is None:
        return []
    entries = r.mapping(node, path, open_keys=True)
    found = []
    for key, (key_node, value_node) in (entries or {}).items():
        if r.name(key_node, f"{path}.{key}", what) is not None:
            found.append((key, value_node))
    return found


def _sources(r: Reader, node: Node | None) -> dict[str, Source | None]:
    """Every source name, mapped to its Source or None when the source has problems."""
    sources: dict[str, Source | None] = {}
    for name, value in _named_entries(r, node, "sources", "source name"):
        sources[name] = None
        path = f"sources.{name}"
        entries = r.mapping(value, path, required=SOURCE_KEYS)
        if entries is None:
            continue
        url = r.text(entries["url"][1], f"{path}.url") if "url" in entries else None
        if url is not None and not URL.match(url):
            r.fail(entries["url"][1], f"{path}.url", f"must be an http(s) URL, not {url!r}")
            url = None
        read = r.day(entries["read"][1], f"{path}.read") if "read" in entries else None
        if url is not None and read is not None:
            sources[name] = Source(name, url, read)
    return sources


def _source_ref(
    r: Reader, node: Node, path: str, sources: dict[str, Source | None]
) -> Source | None:
    """The source named at ``node``; None (reported once, where it is wrong) when it is
    undefined or has problems of its own."""
    name = r.text(node, path)
    if name is None:
        return None
    if name not in sources:
        hint = suggest(name, sources)
        defined = allowed_list(sources) or "none"
        r.fail(
            node, path, f"source {name!r} is not defined under sources; {hint}defined: {defined}"
        )
        return None
    return sources[name]


def _plans(
    r: Reader, node: Node | None, sources: dict[str, Source | None]
) -> dict[str, Plan | None]:
    """Every plan name, mapped to its Plan or None when the plan itself has problems."""
    plans: dict[str, Plan | None] = {}
    upgrades: dict[str, list[tuple[str, Node, str]]] = {}
    for name, value in _named_entries(r, node, "plans", "plan name"):
        plans[name] = None
        path = f"plans.{name}"
        entries = r.mapping(value, path, required=PLAN_REQUIRED, optional=PLAN_OPTIONAL)
        if entries is None:
            continue
        plan = Fields(value, entries, path)
        vendor = price = source = None
        credit: float | None = 0.0
        hard: bool | None = False
        if (n := plan.get("vendor")) is not None:
            vendor = r.text(n, f"{path}.vendor")
        if (n := plan.get("monthly_price_usd")) is not None:
            price = r.number(n, f"{path}.monthly_price_usd")
        if (n := plan.get("usage_credit_usd")) is not None:
            credit = r.number(n, f"{path}.usage_credit_usd")
        if (n := plan.get("hard")) is not None:
            hard = r.boolean(n, f"{path}.hard")
        purchase = None
        if (n := plan.get("purchase")) is not None:
            purchase = r.text(n, f"{path}.purchase")
        if (n := plan.get("source")) is not None:
            source = _source_ref(r, n, f"{path}.source", sources)
        targets = upgrades.setdefault(name, [])
        if (n := plan.get("upgrades_to")) is not None:
            for i, item in enumerate(r.sequence(n, f"{path}.upgrades_to") or []):
                where = f"{path}.upgrades_to[{i}]"
                if (target := r.text(item, where)) is not None:
                    targets.append((target, item, where))
        if vendor is None or price is None or credit is None or hard is None or source is None:
            continue
        names = tuple(target for target, _, _ in targets)
        plans[name] = Plan(name, vendor, price, credit, hard, names, source, purchase)
    for name, targets in upgrades.items():
        for target, item, where in targets:
            if target == name:
                r.fail(item, where, f"plan {name} cannot upgrade to itself")
            elif target not in plans:
                r.fail(item, where, _undefined("plan", target, plans))
    return plans


def _undefined(kind: str, name: str, defined: dict[str, Any]) -> str:
    """``kind`` is plan or account: defined under ``plans`` or ``accounts``."""
    return (
        f"{kind} {name!r} is not defined under {kind}s; {suggest(name, defined)}"
        f"defined: {allowed_list(defined) or 'none'}"
    )


def _limits(
    r: Reader,
    node: Node | None,
    plans: dict[str, Plan | None],
    sources: dict[str, Source | None],
    defaults: Thresholds | None,
) -> dict[Key, Limit]:
    limits: dict[Key, Limit] = {}
    first_seen: dict[Key, tuple[int, Node]] = {}
    items = r.sequence(node, "limits") if node is not None else None
    for index, item in enumerate(items or []):
        path = f"limits[{index}]"
        entries = r.mapping(item, path, required=LIMIT_REQUIRED, optional=LIMIT_OPTIONAL)
        if entries is None:
            continue
        limit = _limit(r, Fields(item, entries, path), plans, sources, defaults)
        if limit is None:
            continue
        if limit.key in first_seen:
            first_index, first_node = first_seen[limit.key]
            r.fail(
                item,
                path,
                f"duplicate limit {key_label(limit.key)} (first as limits[{first_index}] "
                f"at line {line_of(first_node)})",
            )
            continue
        first_seen[limit.key] = (index, item)
        limits[limit.key] = limit
    return limits


def _limit(
    r: Reader,
    row: Fields,
    plans: dict[str, Plan | None],
    sources: dict[str, Source | None],
    defaults: Thresholds | None,
) -> Limit | None:
    """The limit of one row, or None when the row has a problem (recorded in ``r``)."""
    problems_before = len(r.problems)
    path = row.path
    service = metric = plan = None
    if (n := row.get("service")) is not None:
        service = r.choice(n, f"{path}.service", "service", SERVICES)
    if (n := row.get("metric")) is not None:
        metric = r.choice(n, f"{path}.metric", "metric", METRIC_TYPES)
    if (n := row.get("plan")) is not None and (plan_name := r.text(n, f"{path}.plan")):
        if plan_name not in plans:
            r.fail(n, f"{path}.plan", _undefined("plan", plan_name, plans))
        plan = plans.get(plan_name)
    source = None
    if (n := row.get("source")) is not None:
        source = _source_ref(r, n, f"{path}.source", sources)
    hard = r.boolean(n, f"{path}.hard") if (n := row.get("hard")) is not None else None
    given = _threshold_values(r, row.entries, path)
    if metric is None:
        return None  # amounts and units cannot be read without the metric

    kind, limit_value = _limit_amount(r, row.get("limit"), f"{path}.limit", metric)
    included = overage = None
    if (n := row.get("included")) is not None:
        included = r.parsed(
            n,
            f"{path}.included",
            lambda text: quantities.quantity(text, metric),
            quantities.QUANTITY_EXAMPLE,
        )
    if (n := row.get("overage")) is not None:
        overage = r.parsed(
            n,
            f"{path}.overage",
            lambda text: quantities.price(text, metric),
            quantities.PRICE_EXAMPLE,
        )
    if kind is None or plan is None or service is None or defaults is None:
        return None
    is_hard = plan.hard if hard is None else hard
    _check_kind(r, row, kind, plan, is_hard, overage or 0.0, given)
    if kind is LimitKind.ALLOWANCE:
        assert limit_value is not None
        if included is None:
            included = limit_value
        elif included > limit_value:
            r.fail(
                *row.at("included"),
                f"included {quantities.describe(included, metric)} is more than the limit "
                f"{quantities.describe(limit_value, metric)}",
            )
    elif kind is LimitKind.CREDIT and overage:
        # What the plan's whole usage credit buys of this meter alone.
        limit_value = quantities.ratio(plan.usage_credit_usd, overage)
    values = {k: getattr(defaults, k) for k in THRESHOLD_KEYS} | given
    if given and len(r.problems) == problems_before:
        _check_order(r, values, row.entries, path, row.node)
    if len(r.problems) > problems_before or (row.get("source") is not None and source is None):
        return None
    return Limit(
        service=service,
        metric_type=metric,
        plan=plan.name,
        kind=kind,
        limit_value=limit_value,
        included_amount=included or 0.0,
        overage_unit_price=overage or 0.0,
        is_hard=is_hard,
        thresholds=Thresholds(**values),
        source=source or plan.source,
        line=line_of(row.node),
    )


def _limit_amount(
    r: Reader, node: Node | None, path: str, metric: str
) -> tuple[LimitKind | None, float | None]:
    if node is None:
        return None, None
    value = r.scalar(node)
    if isinstance(value, str) and value.strip() in (LimitKind.CREDIT, LimitKind.NONE):
        return LimitKind(value.strip()), None
    example = f"{quantities.QUANTITY_EXAMPLE}, or 'credit' or 'none'"
    amount = r.parsed(node, path, lambda text: quantities.quantity(text, metric), example)
    if amount is None:
        return None, None
    if amount <= 0:
        r.fail(node, path, f"must be positive, not {value!r}")
        return None, None
    return LimitKind.ALLOWANCE, amount


def _check_kind(
    r: Reader,
    row: Fields,
    kind: LimitKind,
    plan: Plan,
    is_hard: bool,
    overage: float,
    thresholds: dict[str, float],
) -> None:
    """What each kind of limit needs and excludes."""
    if kind is LimitKind.ALLOWANCE:
        if is_hard and overage > 0:
            r.fail(
                *row.at("overage"),
                "a hard limit has no overage price: the feature pauses instead of being billed",
            )
        return
    if is_hard:
        r.fail(*row.at("hard"), f"limit {kind.value!r} has no allowance, so it cannot be hard")
    if "included" in row.entries:
        r.fail(*row.at("included"), f"limit {kind.value!r} has no included amount")
    if overage <= 0:
        r.fail(*row.at("overage"), f"limit {kind.value!r} needs an overage price")
    if kind is LimitKind.CREDIT and plan.usage_credit_usd <= 0:
        r.fail(
            *row.at("limit"),
            f"limit 'credit' needs a usage credit, and plan {plan.name} has no usage_credit_usd",
        )
    if kind is LimitKind.NONE:
        for key in thresholds:
            r.fail(*row.at(key), "limit 'none' has no limit to apply thresholds to")


def _accounts(
    r: Reader, node: Node | None, plans: dict[str, Plan | None]
) -> dict[str, Account | None]:
    """Every account name, mapped to its Account or None when it has problems."""
    accounts: dict[str, Account | None] = {}
    for name, value in _named_entries(r, node, "accounts", "account name"):
        accounts[name] = None
        path = f"accounts.{name}"
        entries = r.mapping(value, path, required=ACCOUNT_REQUIRED)
        if entries is None or "plan" not in entries:
            continue
        plan_node = entries["plan"][1]
        plan_name = r.text(plan_node, f"{path}.plan")
        if plan_name is None:
            continue
        if plan_name not in plans:
            r.fail(plan_node, f"{path}.plan", _undefined("plan", plan_name, plans))
            continue
        plan = plans[plan_name]
        if plan is not None:
            accounts[name] = Account(name, plan_name, plan.vendor, line_of(value))
    return accounts


def _service_plan(
    r: Reader,
    fields: Fields,
    plans: dict[str, Plan | None],
    accounts: dict[str, Account | None] | None,
) -> tuple[str | None, str | None]:
    """(plan, account) of one service entry: its account's plan when the file names
    accounts, else its own `plan` (the account is implied later, per vendor)."""
    path = fields.path
    plan_node = fields.get("plan")
    plan = r.text(plan_node, f"{path}.plan") if plan_node is not None else None
    if plan is not None and plan_node is not None and plan not in plans:
        r.fail(plan_node, f"{path}.plan", _undefined("plan", plan, plans))
        return None, None
    account_node = fields.get("account")
    if accounts is None:
        if account_node is not None:
            r.fail(account_node, f"{path}.account", "the file has no accounts section")
            return None, None
        if plan_node is None:
            r.fail(fields.node, path, "missing key 'plan'")
        return plan, None
    if account_node is None:
        r.fail(
            fields.node,
            path,
            f"missing key 'account' (the file names accounts: {allowed_list(accounts) or 'none'})",
        )
        return None, None
    name = r.text(account_node, f"{path}.account")
    if name is None:
        return None, None
    if name not in accounts:
        r.fail(account_node, f"{path}.account", _undefined("account", name, accounts))
        return None, None
    account = accounts[name]
    if account is None:
        return None, None  # reported where the account is defined
    if plan is not None and plan_node is not None and plan != account.plan:
        r.fail(
            plan_node,
            f"{path}.plan",
            f"{plan} differs from the plan of account {name}, {account.plan} (line "
            f"{account.line}): a plan belongs to the whole account",
        )
        return None, None
    return account.plan, name


def _services(
    r: Reader,
    node: Node | None,
    plans: dict[str, Plan | None],
    business: Business | None,
    limits: dict[Key, Limit] | None,
    accounts: dict[str, Account | None] | None,
) -> tuple[list[ServiceSettings], list[Account]]:
    """Active plan, account and business inputs per service, and the accounts the file
    implies when it has no `accounts` section (one per vendor, whose services must then
    share one plan). ``limits`` is None when the limits section has problems, so "no
    limits for this service" is not claimed from a partial list.
    """
    if node is None:
        return [], []
    entries = r.mapping(node, "services", open_keys=True)
    planned = {(service, plan) for service, _, plan in limits or {}}
    settings = []
    implied: dict[str, tuple[Account, str]] = {}  # vendor -> (account, its first service)
    for service, (key_node, value) in (entries or {}).items():
        path = f"services.{service}"
        if r.choice(key_node, path, "service", SERVICES) is None:
            continue
        entries_ = r.mapping(value, path, optional=SERVICE_OPTIONAL)
        if entries_ is None:
            continue
        fields = Fields(value, entries_, path)
        plan, account = _service_plan(r, fields, plans, accounts)
        where = fields.get("plan") or fields.get("account") or value
        if plan is not None and limits is not None and (service, plan) not in planned:
            r.fail(where, f"{path}.plan", f"plan {plan} has no limits for {service} in this file")
        if plan is not None and account is None and (spec := plans.get(plan)) is not None:
            vendor = spec.vendor
            first = implied.get(vendor)
            if first is None:
                name = vendor.casefold().replace(" ", "-")
                implied[vendor] = (Account(name, plan, vendor, line_of(value), True), service)
            elif first[0].plan != plan:
                r.fail(
                    where,
                    f"{path}.plan",
                    f"{service} is on {plan} but {first[1]} (line {first[0].line}) is on "
                    f"{first[0].plan}: services of one {vendor} account share one plan "
                    "(name separate accounts under `accounts:`)",
                )
                plan = None
            account = implied[vendor][0].name
        share: float | None = 0.0
        if (n := fields.get("revenue_share")) is not None:
            share = r.number(n, f"{path}.revenue_share", high=1.0)
        hours: float | None = business.degraded_hours if business else 0.0
        if (n := fields.get("degraded_hours")) is not None:
            hours = r.number(n, f"{path}.degraded_hours")
        if plan is not None and account is not None and share is not None and hours is not None:
            settings.append(ServiceSettings(service, plan, share, hours, account))
    return settings, [account for account, _ in implied.values()]


def _budgets(
    r: Reader,
    node: Node | None,
    known: set[str],
    accounts: dict[str, Account | None] | None,
) -> list[Budget]:
    """USD budgets per account (and optionally per project of it), one per target."""
    budgets: list[Budget] = []
    seen: dict[tuple[str, str | None], int] = {}
    items = r.sequence(node, "budgets") if node is not None else None
    for index, item in enumerate(items or []):
        path = f"budgets[{index}]"
        entries = r.mapping(item, path, required=BUDGET_REQUIRED, optional=BUDGET_OPTIONAL)
        if entries is None:
            continue
        fields = Fields(item, entries, path)
        account = amount = None
        project: str | None = None
        if (n := fields.get("account")) is not None and (name := r.text(n, f"{path}.account")):
            if name in known:
                account = name
            elif accounts is not None and name in accounts:
                pass  # the account has problems of its own, reported there
            else:
                r.fail(n, f"{path}.account", _undefined("account", name, dict.fromkeys(known)))
        if (n := fields.get("monthly_usd")) is not None:
            amount = r.number(n, f"{path}.monthly_usd", positive=True)
        if (n := fields.get("project")) is not None:
            project = r.text(n, f"{path}.project")
            if project is None:
                continue
        if account is None or amount is None:
            continue
        key = (account, project)
        if key in seen:
            r.fail(
                item,
                path,
                f"duplicate budget for {account}"
                + (f"/{project}" if project else "")
                + f" (first at line {seen[key]})",
            )
            continue
        seen[key] = line_of(item)
        budgets.append(Budget(account, amount, project, line_of(item)))
    return budgets
