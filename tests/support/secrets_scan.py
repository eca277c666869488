"""Find secret values where they must not be: anywhere but inside Pulumi's secret wrappers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tests.support.grants_sql import SECRET_SIG


def plain_strings(value: Any) -> Iterator[str]:
    """Every string in ``value`` (keys included) that is not inside a secret wrapper."""
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG):
            return
        for key, item in value.items():
            yield str(key)
            yield from plain_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from plain_strings(item)
    elif isinstance(value, str | bytes):
        yield value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    elif value is not None:
        yield str(value)


def leaks(value: Any, secrets: Iterable[str]) -> list[str]:
    """The secrets found in ``value`` outside secret wrappers."""
    texts = list(plain_strings(value))
    return [s for s in secrets if any(s in text for text in texts)]
