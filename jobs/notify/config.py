"""Read ``notifications.yaml`` into a validated NotifyConfig, or report every problem at
once with its line (``notifications.yaml:14: routes[1].receiver: ...``).

The YAML machinery (nodes with line numbers, typed reads, suggestions) is
``jobs.yamlfile``, shared with the limits loader. Secrets are never in the file: a receiver
names the environment variable that holds its URL or token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from yaml.nodes import Node

from jobs.errors import NotificationsError
from jobs.model import METRIC_TYPES, SERVICES
from jobs.notify.model import (
    LABELS,
    Kind,
    Matchers,
    NotifyConfig,
    Receiver,
    ReceiverType,
    Route,
    Settings,
    Severity,
    Silence,
)
from jobs.yamlfile import Fields, Reader, raise_problems, read_text, read_top

TOP_REQUIRED = ("receivers", "routes")
TOP_OPTIONAL = ("settings", "silences")
# settings key -> (Settings field, unit the number is given in)
SETTING_KEYS = {
    "repeat_interval_hours": ("repeat_interval", timedelta(hours=1)),
    "forecast_days": ("forecast_horizon", timedelta(days=1)),
    "deadman_after_hours": ("deadman_after", timedelta(hours=1)),
    "stale_after_hours": ("stale_after", timedelta(hours=1)),
    "lease_minutes": ("lease", timedelta(minutes=1)),
}
OTHER_SETTINGS = ("max_attempts", "send_resolved", "timeout_seconds", "budget_seconds")
RECEIVER_KEYS = ("type", "env")
ROUTE_REQUIRED = ("receiver",)
ROUTE_OPTIONAL = ("match", "continue")
SILENCE_REQUIRED = ("match", "expires", "reason")
SILENCE_OPTIONAL = ("by",)
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
# Values a matcher may take, where they are a closed set.
LABEL_VALUES: dict[str, tuple[str, ...]] = {
    "kind": tuple(k.value for k in Kind),
    "severity": tuple(s.value for s in Severity),
    "service": SERVICES,
}


def load(path: str | Path, name: str | None = None) -> NotifyConfig:
    """Read and validate ``path``; raises NotificationsError listing every problem."""
    name = name or str(path)
    return parse(read_text(path, name, NotificationsError), name)


def parse(text: str, file: str) -> NotifyConfig:
    r = Reader()
    top = read_top(r, text, TOP_REQUIRED, TOP_OPTIONAL)
    config = None
    if top is not None:
        settings = _settings(r, top["settings"][1] if "settings" in top else None)
        receivers = _receivers(r, top["receivers"][1]) if "receivers" in top else {}
        routes = _routes(r, top["routes"][1], receivers) if "routes" in top else []
        silences = _silences(r, top["silences"][1] if "silences" in top else None)
        config = NotifyConfig(file, settings, tuple(receivers.values()), tuple(routes), silences)
    raise_problems(r, file, NotificationsError)
    assert config is not None
    return config


def _settings(r: Reader, node: Node | None) -> Settings:
    defaults = Settings()
    if node is None:
        return defaults
    entries = r.mapping(node, "settings", optional=(*SETTING_KEYS, *OTHER_SETTINGS))
    if entries is None:
        return defaults
    values: dict[str, object] = {}
    for key, (_, value) in entries.items():
        path = f"settings.{key}"
        if key in SETTING_KEYS:
            attribute, unit = SETTING_KEYS[key]
            if (number := r.number(value, path, positive=True)) is not None:
                values[attribute] = number * unit
        elif key == "send_resolved":
            if (flag := r.boolean(value, path)) is not None:
                values[key] = flag
        elif key == "max_attempts":
            number = r.number(value, path, positive=True, high=100)
            if number is not None and number != int(number):
                r.fail(value, path, f"must be a whole number, not {number:g}")
            elif number is not None:
                values[key] = int(number)
        elif (number := r.number(value, path, positive=True, high=3600)) is not None:
            values[key] = number
    return dataclasses.replace(defaults, **values)  # type: ignore[arg-type]


def _receivers(r: Reader, node: Node) -> dict[str, Receiver]:
    receivers: dict[str, Receiver] = {}
    entries = r.mapping(node, "receivers", open_keys=True)
    for name, (key_node, value) in (entries or {}).items():
        path = f"receivers.{name}"
        if r.name(key_node, path, "receiver name") is None:
            continue
        fields = r.mapping(value, path, required=RECEIVER_KEYS)
        if fields is None:
            continue
        row = Fields(value, fields, path)
        kind = env = None
        if (n := row.get("type")) is not None:
            kind = r.choice(
                n, f"{path}.type", "receiver type", tuple(t.value for t in ReceiverType)
            )
        if (n := row.get("env")) is not None:
            env = r.text(n, f"{path}.env")
            if env is not None and not ENV_NAME.match(env):
                r.fail(
                    n,
                    f"{path}.env",
                    f"must name an environment variable (like SLACK_WEBHOOK_URL), not {env!r}",
                )
                env = None
        if kind is not None and env is not None:
            receivers[name] = Receiver(name, ReceiverType(kind), env, value.start_mark.line + 1)
    return receivers


def _matchers(r: Reader, node: Node, path: str) -> Matchers | None:
    entries = r.mapping(node, path, optional=LABELS)
    if entries is None:
        return None
    matchers: dict[str, tuple[str, ...]] = {}
    ok = True
    for label, (_, value) in entries.items():
        where = f"{path}.{label}"
        items = r.sequence(value, where) if not _is_scalar(value) else [value]
        values = []
        for item in items or []:
            text = r.text(item, where)
            if text is None:
                ok = False
            elif label in LABEL_VALUES and text not in LABEL_VALUES[label]:
                r.choice(item, where, label, LABEL_VALUES[label])
                ok = False
            elif label == "series" and not _valid_series(text):
                r.fail(
                    item,
                    where,
                    f"series {text!r} must be SERVICE/METRIC, e.g. VERCEL_BANDWIDTH/BANDWIDTH_GB",
                )
                ok = False
            else:
                values.append(text)
        if items is None:
            ok = False
        matchers[label] = tuple(values)
    return matchers if ok else None


def _is_scalar(node: Node) -> bool:
    return node.id == "scalar"


def _valid_series(text: str) -> bool:
    service, _, metric = text.partition("/")
    return service in SERVICES and metric in METRIC_TYPES


def _routes(r: Reader, node: Node, receivers: dict[str, Receiver]) -> list[Route]:
    routes = []
    for index, item in enumerate(r.sequence(node, "routes") or []):
        path = f"routes[{index}]"
        entries = r.mapping(item, path, required=ROUTE_REQUIRED, optional=ROUTE_OPTIONAL)
        if entries is None:
            continue
        row = Fields(item, entries, path)
        receiver = matchers = None
        proceed: bool | None = False
        if (n := row.get("receiver")) is not None:
            receiver = r.text(n, f"{path}.receiver")
            if receiver is not None and receiver not in receivers:
                r.fail(
                    n,
                    f"{path}.receiver",
                    f"receiver {receiver!r} is not defined under receivers; "
                    f"defined: {', '.join(receivers) or 'none'}",
                )
                receiver = None
        matchers = {} if (n := row.get("match")) is None else _matchers(r, n, f"{path}.match")
        if (n := row.get("continue")) is not None:
            proceed = r.boolean(n, f"{path}.continue")
        if receiver is not None and matchers is not None and proceed is not None:
            routes.append(Route(receiver, matchers, proceed))
    return routes


def _silences(r: Reader, node: Node | None) -> tuple[Silence, ...]:
    silences = []
    for index, item in enumerate(
        (r.sequence(node, "silences") if node is not None else None) or []
    ):
        path = f"silences[{index}]"
        entries = r.mapping(item, path, required=SILENCE_REQUIRED, optional=SILENCE_OPTIONAL)
        if entries is None:
            continue
        row = Fields(item, entries, path)
        matchers = expires = reason = None
        by: str | None = None
        if (n := row.get("match")) is not None:
            matchers = _matchers(r, n, f"{path}.match")
            if matchers == {}:
                r.fail(
                    n,
                    f"{path}.match",
                    "needs at least one label: a silence of everything is a disabled receiver",
                )
                matchers = None
        if (n := row.get("expires")) is not None:
            expires = _moment(r, n, f"{path}.expires")
        if (n := row.get("reason")) is not None:
            reason = r.text(n, f"{path}.reason")
        if (n := row.get("by")) is not None:
            by = r.text(n, f"{path}.by")
        if matchers is not None and expires is not None and reason is not None:
            silences.append(Silence(matchers, expires, reason, by))
    return tuple(silences)


def _moment(r: Reader, node: Node, path: str) -> datetime | None:
    """A time like 2026-12-01T00:00:00Z (or a date: its midnight), as naive UTC."""
    value = r.scalar(node)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        if isinstance(value, date):  # a plain date: its midnight
            return datetime.combine(value, datetime.min.time())
        r.fail(node, path, "must be a time like 2026-12-01T00:00:00Z")
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
