"""One NAV table as a page serves it: records by primary key, in key order, filterable and pageable.

ReadMultiple walks a table in primary-key order from just after a bookmark, keeping the records
that pass every filter, until it has ``setSize`` of them. Keeping the keys in a sorted list makes
that walk start with a bisection instead of a scan.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from sandbox.erp.criteria import CriteriaError, compile_criteria
from sandbox.erp.errors import NavFault
from sandbox.erp.records import PageField

__all__ = ["Filter", "Table"]

Filter = tuple[str, str]  # (Field, Criteria) as ReadMultiple sends them


class _Keyed(Protocol):
    @property
    def no(self) -> str: ...


R = TypeVar("R", bound=_Keyed)


class Table(Generic[R]):
    """Records of one table, kept in ``No`` order."""

    def __init__(self, caption: str, fields: dict[str, PageField], records: Iterable[R]) -> None:
        self.caption = caption  # NAV's table name, as its messages use it ("Sales Header")
        self.fields = fields
        self._by_no: dict[str, R] = {record.no: record for record in records}
        self._nos = sorted(self._by_no)

    def __len__(self) -> int:
        return len(self._nos)

    def __contains__(self, no: object) -> bool:
        return no in self._by_no

    def __iter__(self) -> Iterator[R]:
        return (self._by_no[no] for no in self._nos)

    def get(self, no: str) -> R | None:
        return self._by_no.get(no)

    def put(self, record: R) -> None:
        """Insert a record, or replace the one with the same ``No``."""
        if record.no not in self._by_no:
            bisect.insort(self._nos, record.no)
        self._by_no[record.no] = record

    def remove(self, no: str) -> None:
        del self._by_no[no]
        del self._nos[bisect.bisect_left(self._nos, no)]

    def page(self, filters: Sequence[Filter], after: str | None, size: int) -> list[R]:
        """Up to ``size`` records (all when 0) after ``No`` ``after`` that pass every filter."""
        tests = [self._compile(name, criteria) for name, criteria in filters]
        start = 0 if after is None else bisect.bisect_right(self._nos, after)
        found: list[R] = []
        for no in self._nos[start:]:
            record = self._by_no[no]
            if all(test(record) for test in tests):
                found.append(record)
                if len(found) == size:
                    break
        return found

    def _compile(self, name: str, criteria: str) -> Callable[[Any], bool]:
        field = self.fields.get(name)
        if field is None:
            raise NavFault(f"The field {name} does not exist on the {self.caption} table.")
        try:
            matches = compile_criteria(criteria, field.type)
        except CriteriaError as exc:
            raise NavFault(
                f'The filter "{criteria}" is not valid for the {field.caption} field on the '
                f"{self.caption} table. {exc}."
            ) from None
        value_of = field.value_of
        return lambda record: matches(value_of(record))
