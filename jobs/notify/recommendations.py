"""The one adapter from a stored recommendation to what notifications say about it.

Everything else in ``jobs.notify`` sees a RecommendationView: id, title, priority,
status, the account it belongs to and its evidence as Markdown. When recommendations
change shape (one per account instead of one per service), only this module changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobs.recommend.explain import describe
from jobs.recommend.lifecycle import OPEN, Status

FENCE = "```"
SAFE_FENCE = "'''"  # a fence inside the text would end the code block early
MAX_EVIDENCE_CHARS = 60_000  # GitHub refuses an issue body over 65,536 characters


@dataclass(frozen=True)
class RecommendationView:
    id: str
    title: str
    priority: str  # CRITICAL | HIGH | MEDIUM | LOW
    status: str  # a RecommendationStatus value
    account: str
    service: str
    current_plan: str
    recommended_plan: str
    evidence_markdown: str
    ended_because: str | None  # the last transition's reason or note, once it is final
    # What the upgrade is worth this billing period (USD), and when a limit is reached.
    projected_cost: float  # on the current plan: price + overage
    upgraded_cost: float  # on the recommended plan
    overage_avoided: float
    revenue_at_risk: float
    breach_at: datetime | None

    @property
    def is_open(self) -> bool:
        return Status(self.status) in OPEN

    @property
    def digest(self) -> str:
        """Changes whenever what the issue shows changes (its numbers included)."""
        text = f"{self.title}\n{self.priority}\n{self.status}\n{self.evidence_markdown}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def view(row: Mapping[str, Any], account_of: Callable[[str], str]) -> RecommendationView:
    """A row as ``jobs.recommend.store.get_recommendation`` returns it."""
    text = describe(dict(row))
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS] + "\n… (shortened; `recommendations show` has it all)"
    history = row.get("review_history") or []
    ended = None
    if Status(row["status"]) not in OPEN and history:
        last = history[-1]
        ended = " ".join(
            p
            for p in (f"{last.get('to')} by {last.get('by')}", last.get("reason"), last.get("note"))
            if p
        )
    return RecommendationView(
        id=str(row["id"]),
        title=str(row["title"]),
        priority=str(row["priority"]),
        status=str(row["status"]),
        account=account_of(str(row["service"])),
        service=str(row["service"]),
        current_plan=str(row["current_plan"]),
        recommended_plan=str(row["recommended_plan"]),
        evidence_markdown=f"{FENCE}text\n{text.replace(FENCE, SAFE_FENCE)}\n{FENCE}",
        ended_because=ended,
        projected_cost=float(row["projected_cost"]),
        upgraded_cost=float(row["upgraded_cost"]),
        overage_avoided=float(row["overage_avoided"]),
        revenue_at_risk=float(row["revenue_at_risk"]),
        breach_at=row.get("breach_at"),
    )
