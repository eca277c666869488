"""Dynamic resources that scale to thousands: the SDK's pickler leak undone, and GC tuned.

The SDK's ``serialize_provider`` (pulumi 3.272) patches ``pickle._Pickler._batch_setitems``
and ``save_dict`` to sort dictionaries, and never puts them back: every dynamic resource
wraps the previous wrapper once more. Declaring N resources then costs O(N^2) and, past
about 950 resources, fails with RecursionError (the shape of pulumi/pulumi#17803). Each
resource here restores the two methods after its provider is serialized, so every
serialization sorts through exactly one wrapper and produces the same bytes as before.
"""

from __future__ import annotations

import contextlib
import gc
import pickle
from collections.abc import Iterator
from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

_PATCHED = ("_batch_setitems", "save_dict")
# Young-generation collections that must pass before a full one: in effect, never.
FULL_COLLECTIONS_NEVER = 1_000_000


@contextlib.contextmanager
def _pickler_restored() -> Iterator[None]:
    saved = {name: getattr(pickle._Pickler, name) for name in _PATCHED}
    try:
        yield
    finally:
        for name, method in saved.items():
            setattr(pickle._Pickler, name, method)


class DynamicResource(Resource):
    """A dynamic resource whose declaration leaves the pickle module as it found it."""

    def __init__(
        self,
        provider: ResourceProvider,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        with _pickler_restored():
            super().__init__(provider, name, props, opts)


def young_collections_only() -> None:
    """Keep the cyclic GC to its young generations for this (short-lived) program process.

    Every declared resource leaves long-lived objects in the SDK (outputs, futures, inputs);
    each full collection rescans all of them, so with thousands of limit rows evaluation
    grew faster than linearly and GC took half the time (bench/limits_program.py). Young
    collections still free short-lived cycles; peak memory measured the same.
    """
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTIONS_NEVER)
