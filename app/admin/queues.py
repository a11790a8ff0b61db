"""What the staff queue pages share: the sort select's values and the list state kept in the URL
(tab, chosen statuses, order, page size), so every page works without JavaScript and a link to
a list can be shared."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, TypeVar

E = TypeVar("E", bound=StrEnum)


def sort_choices(sorts: Iterable[StrEnum]) -> list[str]:
    """The sort select's values: a column, "-" in front for descending."""
    return [f"{prefix}{s.value}" for s in sorts for prefix in ("", "-")]


def parse_sort(value: str | None, sort: type[E]) -> tuple[E | None, bool | None]:
    """(column, descending) of a sort select value; (None, None) for none or an unknown one."""
    if value is None or value not in sort_choices(sort):
        return None, None
    return sort(value.removeprefix("-")), value.startswith("-")


def list_state(
    *,
    tab: str,
    page: Any,
    tab_statuses: Sequence[StrEnum],
    default_statuses: Sequence[StrEnum],
    default_sort: tuple[StrEnum, bool],
    choices: list[str],
    statuses: Sequence[str],
    sort: str | None,
    after: str | None,
    limit: int,
) -> dict[str, Any]:
    """The template context of a queue page: the statuses and order in effect, and the links to
    the first and the next page with the same choices."""
    default_column, default_descending = default_sort
    chosen_sort = (
        sort if sort in choices else ("-" if default_descending else "") + default_column.value
    )
    chosen = [s.value for s in tab_statuses if s.value in statuses] or [
        s.value for s in default_statuses
    ]
    params: list[tuple[str, Any]] = [("tab", tab), *(("status", s) for s in chosen)]
    params += [("sort", chosen_sort), ("limit", limit)]
    return {
        "tab": tab,
        "page": page,
        "tab_statuses": [s.value for s in tab_statuses],
        "chosen": chosen,
        "sort": chosen_sort,
        "sort_choices": choices,
        "next_params": [*params, ("after", page.next_after)] if page.next_after else None,
        "is_first_page": after is None,
        "first_params": params,
    }
