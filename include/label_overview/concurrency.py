"""Bounded concurrency over many workspace × channel pairs, one failure not stopping others."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """One item's result, or the exception it raised."""

    value: R | None = None
    error: Exception | None = None


def map_bounded(func: Callable[[T], R], items: Iterable[T], max_workers: int) -> list[Outcome[R]]:
    """Run ``func`` over ``items`` with at most ``max_workers`` at once; outcomes in input order."""

    def attempt(item: T) -> Outcome[R]:
        try:
            return Outcome(value=func(item))
        except Exception as error:  # noqa: BLE001 - reported per item, never swallowed
            return Outcome(error=error)

    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as pool:
        return list(pool.map(attempt, items))
