"""Vercel billing charges: ``GET /v1/billing/charges`` (FOCUS 1.3, JSON lines, streamed).

How the real API answers, and what this source does about it (REFERENCE.md section 3):

- Charge days run from Los Angeles midnight to the next, and a day appears only after it
  has ended, normally about a day later, sometimes several. A window selects the charges
  that *ended* inside ``[from, to)``. So every run asks again for the last
  ``REPUBLISH_DAYS`` days before the watermark: a day published late is still collected,
  a day the provider revised is updated in place (the summary counts it as updated),
  an unchanged day writes nothing.
- The watermark moves to the end of the last day of an unbroken run of published days;
  a day still missing holds it back, until ``REPUBLISH_DAYS`` newer days have been
  published (a day without any usage is never published at all).
- ``404 costs_not_found`` means "no finished charge in this window", not a failure. When
  every request of a run answers it, the team has no billing data (Hobby teams get it for
  every window); the run says so in one line and succeeds.
- A request spans at most one year: longer ranges are split.

The stream is read line by line as it arrives; a malformed line, or a stream cut before
its end, fails the whole run of this source (nothing written).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from jobs import periods
from jobs.collect.focus import VERCEL_BILLING_SOURCE, Charge, ChargeTotals, parse_charge
from jobs.collect.http import Api, refuse_error_body
from jobs.collect.sources.base import Batch, iso
from jobs.errors import ApiError, PayloadError

REPUBLISH_DAYS = 7  # days before the watermark asked for again on every run
MAX_REQUEST_DAYS = 365  # the API refuses a range longer than a year
NO_DATA_CODE = "costs_not_found"
NO_BILLING_DATA = (
    "Vercel returns no billing data for this team: Hobby teams have no billing API; "
    "usage comes from deployments and the other sources"
)


def request_ranges(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at billing-day boundaries into pieces of at most a year."""
    ranges = []
    while start < end:
        # A year in UTC, down to the billing day it ends in (the clocks may have moved).
        piece = min(end, periods.billing_day(start + timedelta(days=MAX_REQUEST_DAYS)))
        ranges.append((start, piece))
        start = piece
    return ranges


def watermark(since: datetime, published: set[datetime], now: datetime) -> datetime | None:
    """Where the watermark may move: the end of the unbroken run of published days that
    starts at the oldest one asked for (the re-requested days before ``since`` are long
    published, so a day still missing after them stops it); past a missing day only once
    ``REPUBLISH_DAYS`` newer days are published. None: it stays (nothing new published)."""
    if not published:
        return None
    day = min(published)
    while day in published:
        day = periods.next_billing_day(day)
    newest = periods.next_billing_day(max(published))
    given_up = periods.midnight(periods.local_date(newest) - timedelta(REPUBLISH_DAYS))
    through = min(max(day, given_up), periods.billing_day(now))
    return through if through > since else None


@dataclass
class VercelBilling:
    api: Api
    team_id: str | None = None
    name: str = VERCEL_BILLING_SOURCE

    async def collect(self, since: datetime, now: datetime) -> Batch:
        start = periods.midnight(periods.local_date(since) - timedelta(REPUBLISH_DAYS))
        end = now.replace(second=0, microsecond=0)
        ranges = request_ranges(start, end)
        totals = ChargeTotals(source=lambda _charge: VERCEL_BILLING_SOURCE)
        published: set[datetime] = set()
        absent = 0
        for piece in ranges:
            charges = await self._charges(*piece)
            if charges is None:
                absent += 1
                continue
            for charge in charges:
                if totals.add(charge, piece):
                    published.add(charge.start)
        notes = totals.notes()
        if ranges and absent == len(ranges):
            notes.append(NO_BILLING_DATA)
        return Batch(
            rows=totals.rows(),
            windows=sum(1 for _ in periods.billing_days(start, end)),
            complete_through=watermark(since, published, now),
            unmapped=totals.unmapped,
            notes=notes,
            purchases=totals.purchases,
        )

    async def _charges(self, start: datetime, end: datetime) -> list[Charge] | None:
        """The charges that ended in [start, end); None when the API has none (404)."""
        params = {"from": iso(start), "to": iso(end)}
        if self.team_id:
            params["teamId"] = self.team_id
        try:
            return await self.api.request("/v1/billing/charges", params, read_charges)
        except ApiError as exc:
            if exc.status == 404 and exc.code == NO_DATA_CODE:
                return None
            raise


async def read_charges(response: httpx.Response) -> list[Charge]:
    """The JSON lines, validated as they stream in (a retry starts from an empty list)."""
    charges = []
    number = 0
    async for line in response.aiter_lines():
        number += 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            raise PayloadError(f"line {number} of the charges stream is not valid JSON") from None
        refuse_error_body(record, f"line {number} of the charges stream")
        charges.append(parse_charge(record, f"line {number} of the charges stream"))
    return charges
