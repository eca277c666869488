"""Vercel billing charges: ``GET /v1/billing/charges`` (FOCUS 1.3, JSON lines, streamed).

Usage and cost per service and day. The stream is read line by line as it arrives; a
malformed line, or a stream cut before its end, fails the whole window (nothing written).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from jobs.collect.focus import VERCEL_BILLING_SOURCE, ChargeTotals, parse_charge
from jobs.collect.http import Api
from jobs.collect.sources.base import Batch, DailyPlan, iso
from jobs.errors import PayloadError

# Charges of a day keep arriving for a few hours after it ends.
SETTLE = timedelta(hours=6)


@dataclass
class VercelBilling:
    api: Api
    team_id: str | None = None
    name: str = VERCEL_BILLING_SOURCE

    async def collect(self, since: datetime, now: datetime) -> Batch:
        plan = DailyPlan.make(since, now, SETTLE)
        params = {"from": iso(plan.start), "to": iso(plan.end)}
        if self.team_id:
            params["teamId"] = self.team_id
        totals = await self.api.request("/v1/billing/charges", params, read_charges)
        return Batch(
            rows=totals.rows(),
            windows=plan.windows,
            complete_through=plan.complete_through,
            unmapped=totals.unmapped,
            notes=totals.notes(),
            purchases=totals.purchases,
        )


async def read_charges(response: httpx.Response) -> ChargeTotals:
    """Add the JSON lines up as they stream in; memory stays bounded by the series count."""
    totals = ChargeTotals(source=lambda _charge: VERCEL_BILLING_SOURCE)
    number = 0
    async for line in response.aiter_lines():
        number += 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            raise PayloadError(f"line {number} of the charges stream is not valid JSON") from None
        totals.add(parse_charge(record, f"line {number} of the charges stream"))
    return totals
