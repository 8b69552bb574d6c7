"""One page of a list: the page asked for (``PageRequest``), the page found (``Page``).

Every list that can grow pages through here: ``paginate`` runs a real ``COUNT`` over the
same filtered statement and then fetches one page of it, so ``total`` is never the length
of a truncated list. The statement must carry a stable order (a unique tie-breaker last,
e.g. ``created_at, id``) or rows could repeat or go missing between pages.

A page past the last is empty (``total`` still true), not an error; ``page`` or
``per_page`` that is not an integer in range is a 400 naming the field (``PageArgs``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from marshmallow import EXCLUDE, Schema, fields, post_load, validate
from sqlalchemy import Select, func, select

from carenet.extensions import db

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100  # every list, HTML and API
MAX_PAGE = 100_000

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows of one page and the true count of the whole list."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the list has (0 when it is empty)."""
        return math.ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def map(self, change: Callable[[T], U]) -> Page[U]:
        return Page([change(item) for item in self.items], self.total, self.page, self.per_page)

    def envelope(self, contents: list[Any]) -> dict[str, Any]:
        """The HSDS 3.0 paging envelope (as the search API's) around ``contents``."""
        return {
            "total_items": self.total,
            "total_pages": self.pages,
            "page_number": self.page,
            "size": len(contents),
            "first_page": self.page == 1,
            "last_page": self.page >= self.pages,
            "empty": not contents,
            "contents": contents,
        }


def count(stmt: Select[Any]) -> int:
    """``SELECT count(*)`` over ``stmt`` (its order dropped): the size of the whole list."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int(db.session.scalar(counted) or 0)


def paginate(stmt: Select[Any], wanted: PageRequest) -> Page[Any]:
    """The count of ``stmt`` and its rows on page ``wanted``: two statements, whatever the size."""
    total = count(stmt)
    rows = list(db.session.scalars(stmt.limit(wanted.per_page).offset(wanted.offset)))
    return Page(rows, total, wanted.page, wanted.per_page)


class _Whole(fields.Integer):
    """A positive whole number written in ASCII digits (no sign, point, exponent or ``_``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) < 10):
            raise self.make_error("invalid")
        if isinstance(value, bool | float):
            raise self.make_error("invalid")
        return int(super()._deserialize(value, attr, data, **kwargs))


def page_field() -> fields.Integer:
    return _Whole(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def per_page_field(default: int = DEFAULT_PER_PAGE) -> fields.Integer:
    return _Whole(load_default=default, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageArgs(Schema):
    """``page`` and ``per_page`` of a query string; everything else is someone else's."""

    class Meta:
        unknown = EXCLUDE

    page = page_field()
    per_page = per_page_field()

    @post_load
    def _request(self, data: dict[str, Any], **_: Any) -> PageRequest:
        return PageRequest(data["page"], data["per_page"])


def page_request(args: Mapping[str, Any]) -> PageRequest:
    """The page a query string asks for; a bad value raises marshmallow's ValidationError (400)."""
    result: PageRequest = PageArgs().load(
        {name: args[name] for name in ("page", "per_page") if name in args}
    )
    return result
