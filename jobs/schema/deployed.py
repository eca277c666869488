"""Before the first deploy: no object of the schema plan exists yet.

Then preview, ``limits diff`` and the drift check say so and pass, instead of failing on a
table that does not exist: everything would be created.
"""

from __future__ import annotations

import psycopg

from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN

NOTHING_DEPLOYED = "nothing deployed yet: everything would be created"


def nothing_deployed(conn: psycopg.Connection, schema: str) -> bool:
    """True when not one object of the plan exists in ``schema`` (a partly missing schema
    is not "nothing deployed": that is drift, or a failed deploy)."""
    return all(
        migrate.read(conn, migrate.ObjectSpec.from_plan(obj, schema)) is None for obj in SCHEMA_PLAN
    )
