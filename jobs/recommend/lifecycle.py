"""The review lifecycle of an upgrade recommendation. Pure rules, no IO.

PENDING --review--> REVIEWED --approve--> APPROVED --implement--> IMPLEMENTED
   any open state --dismiss--> DISMISSED, --expire--> EXPIRED, --implement--> IMPLEMENTED

PENDING, REVIEWED and APPROVED are open: at most one open recommendation exists per
service and target plan, and later runs refresh it. IMPLEMENTED, DISMISSED and EXPIRED
are final. Every transition is recorded in the review history with who, when, from, to,
a note and a reason code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobs.errors import MonitoringError
from jobs.recommend.advice import PRIORITY_RANK, Priority


class Status(enum.StrEnum):
    PENDING = "PENDING"
    REVIEWED = "REVIEWED"
    APPROVED = "APPROVED"
    IMPLEMENTED = "IMPLEMENTED"
    DISMISSED = "DISMISSED"
    EXPIRED = "EXPIRED"


OPEN = frozenset({Status.PENDING, Status.REVIEWED, Status.APPROVED})

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset(
        {Status.REVIEWED, Status.APPROVED, Status.DISMISSED, Status.IMPLEMENTED, Status.EXPIRED}
    ),
    Status.REVIEWED: frozenset(
        {Status.APPROVED, Status.DISMISSED, Status.IMPLEMENTED, Status.EXPIRED}
    ),
    Status.APPROVED: frozenset({Status.IMPLEMENTED, Status.DISMISSED, Status.EXPIRED}),
    Status.IMPLEMENTED: frozenset(),
    Status.DISMISSED: frozenset(),
    Status.EXPIRED: frozenset(),
}

# The CLI verbs and the status each leads to.
ACTIONS = {
    "review": Status.REVIEWED,
    "approve": Status.APPROVED,
    "dismiss": Status.DISMISSED,
    "implement": Status.IMPLEMENTED,
}

# Reason codes people (and the job) give, as AWS Trusted Advisor does.
REASONS = frozenset(
    {
        "not-needed",  # the risk is accepted
        "too-expensive",
        "wrong-data",  # the numbers are wrong; fix the data, not the advice
        "later",  # not now; raise it again after the snooze
        "done",  # the upgrade was made
        "other",
        "plan-changed",  # the job saw limits.yaml's active plan become the target
        "bill-confirmed",  # ... and the vendor's FOCUS purchase lines show the target paid for
        "condition-cleared",  # the job saw the condition gone for the expiry time
        "expired",  # the recommendation passed its expiry date
        "superseded",  # a per-service recommendation replaced by its account's
    }
)


class IllegalTransition(MonitoringError):
    """This status change is not allowed."""

    exit_code = 1


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    by: str
    from_status: Status
    to_status: Status
    note: str | None
    reason: str | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "by": self.by,
            "from": self.from_status.value,
            "to": self.to_status.value,
            "note": self.note,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> HistoryEntry:
        return cls(
            datetime.fromisoformat(str(data["at"])),
            str(data["by"]),
            Status(str(data["from"])),
            Status(str(data["to"])),
            data.get("note"),
            data.get("reason"),
        )


def require_actor(by: str, what: str = "recommendation") -> None:
    if not by.strip():
        raise IllegalTransition(f"{what}: a status change needs --by NAME")


def transition(
    current: Status,
    wanted: Status,
    *,
    by: str,
    at: datetime,
    note: str | None = None,
    reason: str | None = None,
    what: str = "recommendation",
) -> HistoryEntry:
    """The history entry for ``current -> wanted``, or IllegalTransition saying why not."""
    require_actor(by, what)
    if reason is not None and reason not in REASONS:
        raise IllegalTransition(
            f"{what}: unknown reason {reason!r} (allowed: {', '.join(sorted(REASONS))})"
        )
    if wanted not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none, it is final"
        raise IllegalTransition(
            f"{what} is {current.value}: it cannot become {wanted.value} (allowed: {allowed})"
        )
    return HistoryEntry(at, by.strip(), current, wanted, note, reason)


@dataclass(frozen=True)
class Dismissal:
    at: datetime
    priority: Priority


def snoozed(
    dismissal: Dismissal | None, priority: Priority, now: datetime, snooze: timedelta
) -> bool:
    """True while a dismissed recommendation must not come back (unless its priority rose)."""
    if dismissal is None or now - dismissal.at >= snooze:
        return False
    return PRIORITY_RANK[priority] <= PRIORITY_RANK[dismissal.priority]
