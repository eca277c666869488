"""One collection run: lock, fetch every source concurrently, write each in its own transaction.

Sources are fetched in parallel (asyncio + httpx); each source's rows are written as soon
as it has finished, one source at a time on one connection, each source in one transaction
with its watermark, so a failed source writes nothing, the others still commit, and a slow
source holds back nobody else's writes. Each source has a deadline of its own
(``COLLECT_SOURCE_BUDGET``). A PostgreSQL advisory lock keeps two runs from interleaving
(transaction-scoped, so it holds behind a transaction pooler).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

from jobs import db
from jobs.collect import store
from jobs.collect.config import MAX_BACKFILL_DAYS, CollectConfig
from jobs.collect.http import Api, RetryPolicy
from jobs.collect.records import Batch, conflicting_windows, day_start
from jobs.collect.sources.base import Source
from jobs.collect.sources.focus_file import FocusFile
from jobs.collect.sources.neon import NeonConsumption, NeonProject
from jobs.collect.sources.upstash import UpstashDatabase
from jobs.collect.sources.vercel_billing import VercelBilling
from jobs.collect.sources.vercel_deployments import VercelDeployments
from jobs.errors import (
    ApiError,
    DatabaseError,
    Interrupted,
    PayloadError,
    SourceError,
)
from jobs.redact import dsn_secrets, scrub

USER_AGENT = "infra-monitoring-collect/1"
T = TypeVar("T")


@dataclass
class Outcome:
    """What happened to one source in one run (a row of the summary)."""

    source: str
    windows: int = 0
    written: store.Written = field(default_factory=store.Written)
    unmapped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    bad_input: bool = False  # the error is the user's file, not a provider or the database

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "windows": self.windows,
            "new": self.written.new,
            "updated": self.written.updated,
            "unchanged": self.written.unchanged,
            "replaced": self.written.replaced,
            "unmapped": dict(self.unmapped),
            "notes": self.notes,
            "error": self.error,
        }


@dataclass
class RunReport:
    run_id: str
    started: datetime
    trigger: str
    outcomes: list[Outcome] = field(default_factory=list)
    finished: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    interrupted: Interrupted | None = None  # SIGTERM / SIGINT stopped the run

    @property
    def ok(self) -> bool:
        return self.interrupted is None and all(o.ok for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 all ok; 2 when every failure is a bad file of the user's (a user error); else 1."""
        if self.interrupted is not None:
            return self.interrupted.exit_code
        failed = [o for o in self.outcomes if not o.ok]
        if not failed:
            return 0
        return 2 if all(o.bad_input for o in failed) else 1


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a private event loop; unlike asyncio.run, leaves the thread's loop alone
    (the Pulumi SDK in the same process expects to find or create its own)."""
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_unless_interrupted)
    try:
        return loop.run_until_complete(coroutine)
    except BaseException:
        # Interrupted (or failed) mid-flight: cancel what still runs so clients close.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending))
        raise
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _unless_interrupted(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A task the signal hit keeps the interruption as its result; the run reports it already.
    if not isinstance(context.get("exception"), KeyboardInterrupt):
        loop.default_exception_handler(context)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def policy_for(config: CollectConfig) -> RetryPolicy:
    return RetryPolicy(
        attempts=config.http.attempts,
        budget_seconds=config.http.budget,
        read_timeout=config.http.timeout,
        max_body_bytes=int(config.http.max_response_mb * 2**20),
    )


def build_sources(
    config: CollectConfig, client: httpx.AsyncClient, policy: RetryPolicy
) -> list[Source]:
    """Every source whose credentials are configured."""
    sources: list[Source] = []
    if config.vercel:
        vercel = Api(
            client,
            config.vercel.base_url,
            headers={"Authorization": f"Bearer {config.vercel.token}"},
            policy=policy,
            credential_hint="VERCEL_TOKEN and VERCEL_TEAM_ID",
        )
        sources += [
            VercelBilling(vercel, config.vercel.team_id),
            VercelDeployments(vercel, config.vercel.team_id),
        ]
    if config.neon:
        neon = Api(
            client,
            config.neon.base_url,
            headers={"Authorization": f"Bearer {config.neon.api_key}"},
            policy=policy,
            credential_hint="NEON_API_KEY",
        )
        if config.neon.org_id:
            sources.append(NeonConsumption(neon, config.neon.org_id, config.neon.project_ids))
        else:
            sources += [NeonProject(neon, pid) for pid in config.neon.project_ids]
    if config.upstash:
        upstash = Api(
            client,
            config.upstash.base_url,
            auth=(config.upstash.email, config.upstash.api_key),
            policy=policy,
            credential_hint="UPSTASH_EMAIL and UPSTASH_API_KEY",
        )
        sources += [UpstashDatabase(upstash, d) for d in config.upstash.database_ids]
    return sources


def resume_from(mark: datetime | None, now: datetime, backfill_days: int) -> datetime:
    """Where a source starts: its watermark, or ``backfill_days`` before today on a first run.
    A watermark older than MAX_BACKFILL_DAYS is clamped to it (sources split long ranges)."""
    if mark is None:
        return day_start(now) - timedelta(days=backfill_days)
    return max(mark, day_start(now) - timedelta(days=MAX_BACKFILL_DAYS))


async def fetched(
    sources: Sequence[Source], since: dict[str, datetime], now: datetime, budget: float
) -> AsyncIterator[tuple[str, Batch | SourceError]]:
    """Each source's result as soon as it is there (fastest first); a source still
    fetching after ``budget`` seconds fails alone."""

    async def one(source: Source) -> tuple[str, Batch | SourceError]:
        try:
            async with asyncio.timeout(budget):
                return source.name, await source.collect(since[source.name], now)
        except TimeoutError:
            return source.name, ApiError(
                f"{source.name}: not finished within {budget:g}s (COLLECT_SOURCE_BUDGET)"
            )
        except SourceError as exc:
            return source.name, exc
        except ValueError as exc:  # a value our rows refuse (say NaN): the payload's fault
            return source.name, PayloadError(str(exc))

    for next_done in asyncio.as_completed([one(s) for s in sources]):
        yield await next_done


def _write(
    conn: psycopg.Connection,
    report: RunReport,
    name: str,
    result: Batch | Exception,
    at: datetime,
    secrets: Sequence[str] = (),
) -> None:
    outcome = Outcome(name)
    report.outcomes.append(outcome)
    try:
        if isinstance(result, BaseException):
            raise result
        outcome.windows = result.windows
        outcome.unmapped = result.unmapped
        outcome.notes = result.notes
        conflict = conflicting_windows(result.rows)
        if conflict:
            raise PayloadError(f"the data holds {conflict}; nothing written")
        outcome.written = store.write(
            conn,
            name,
            result.rows,
            through=result.complete_through,
            run_id=report.run_id,
            at=at,
            purchases=result.purchases,
            mark=report.trigger == "api",
            notes=result.notes,
        )
        if outcome.written.replaced:
            outcome.notes = [
                *outcome.notes,
                f"{outcome.written.replaced} stored rows overlapped by windows of another "
                "granularity or time zone were replaced (the same usage is never counted twice)",
            ]
    except Interrupted as stop:
        outcome.error = f"{stop} while writing: rolled back, nothing written"
        raise
    except (SourceError, DatabaseError) as exc:
        # Stored in CollectionWatermark and CollectionRun: no credential, even one an API echoed.
        outcome.error = scrub(str(exc), secrets)
        outcome.bad_input = report.trigger == "file" and isinstance(exc, PayloadError)
        if report.trigger == "api":
            try:
                store.record_failure(conn, name, outcome.error, run_id=report.run_id, at=at)
            except DatabaseError as lost:
                report.warnings.append(f"could not record the failure of {name}: {lost}")


def collect(
    config: CollectConfig,
    dsn: str,
    *,
    files: Sequence[Path] = (),
    now: datetime | None = None,
    lock_wait: float = 30.0,
    policy: RetryPolicy | None = None,
) -> RunReport:
    """One run: the API sources, or (with ``files``) only those FOCUS files."""
    now = now or utc_now()
    report = RunReport(str(uuid.uuid4()), utc_now(), "file" if files else "api")
    secrets = [*config.secrets, *dsn_secrets(dsn)]
    with db.connect(dsn, autocommit=True) as conn:
        store.check_schema(conn)
        with store.run_lock(dsn, lock_wait):
            try:
                if files:
                    for path in files:
                        source = FocusFile(path, now)
                        try:
                            result: Batch | Exception = source.read()
                        except PayloadError as exc:
                            result = exc
                        _write(conn, report, source.name, result, now, secrets)
                else:
                    fetching = _fetch_and_write(
                        config, conn, report, now, policy or policy_for(config), secrets
                    )
                    run_async(fetching)
            except Interrupted as stop:
                # What committed stays (whole sources); the source in flight rolled back.
                report.interrupted = stop
            report.finished = utc_now()
            _record_run(conn, report)
    return report


async def _fetch_and_write(
    config: CollectConfig,
    conn: psycopg.Connection,
    report: RunReport,
    now: datetime,
    policy: RetryPolicy,
    secrets: Sequence[str],
) -> None:
    """Write each source the moment it is fetched. The write runs on the event loop's own
    (main) thread, so SIGTERM still cancels its statement; other fetches wait meanwhile."""
    marks = store.watermarks(conn)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
    async with httpx.AsyncClient(
        timeout=policy.timeout, limits=limits, headers={"User-Agent": USER_AGENT}
    ) as client:
        sources = build_sources(config, client, policy)
        since = {s.name: resume_from(marks.get(s.name), now, config.backfill_days) for s in sources}
        order = [s.name for s in sources]
        try:
            async for name, result in fetched(sources, since, now, config.http.source_budget):
                _write(conn, report, name, result, now, secrets)
        finally:  # the summary lists sources in their usual order, not in finishing order
            report.outcomes.sort(key=lambda o: order.index(o.source))


def _record_run(conn: psycopg.Connection, report: RunReport) -> None:
    try:
        store.record_run(
            conn,
            run_id=report.run_id,
            started=report.started,
            finished=report.finished or utc_now(),
            ok=report.ok,
            trigger=report.trigger,
            rows_written=sum(o.written.new + o.written.updated for o in report.outcomes),
            sources=[o.as_json() for o in report.outcomes],
        )
    except DatabaseError as exc:
        report.warnings.append(f"could not record the run: {exc}")
