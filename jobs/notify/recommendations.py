"""The one adapter from a stored recommendation to what notifications say about it.

Everything else in ``jobs.notify`` sees a RecommendationView: id, title, priority,
status, the account it belongs to and its evidence as Markdown. When recommendations
change shape, only this module changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jobs.recommend.explain import describe
from jobs.recommend.lifecycle import OPEN, Status
from jobs.recommend.records import Recommendation

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


def view(rec: Recommendation, account_of: Callable[[str], str]) -> RecommendationView:
    """A recommendation as ``jobs.recommend.store.get_recommendation`` returns it."""
    text = describe(rec)
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS] + "\n… (shortened; `recommendations show` has it all)"
    ended = None
    if rec.status not in OPEN and rec.review_history:
        last = rec.review_history[-1]
        ended = " ".join(
            p for p in (f"{last.to_status.value} by {last.by}", last.reason, last.note) if p
        )
    return RecommendationView(
        id=rec.id,
        title=rec.title,
        priority=rec.priority.value,
        status=rec.status.value,
        # Rows written before recommendations were per account have none: the service's.
        account=rec.account or account_of(rec.service),
        service=rec.service,
        current_plan=rec.current_plan,
        recommended_plan=rec.recommended_plan,
        evidence_markdown=f"{FENCE}text\n{text.replace(FENCE, SAFE_FENCE)}\n{FENCE}",
        ended_because=ended,
        projected_cost=rec.projected_cost,
        upgraded_cost=rec.upgraded_cost,
        overage_avoided=rec.overage_avoided,
        revenue_at_risk=rec.revenue_at_risk,
        breach_at=rec.breach_at,
    )
