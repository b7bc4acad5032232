"""One model's records and the ORM operations on them, in memory.

Rows hold stored values (``None`` when empty, a many2one as the bare id); :meth:`Model.render`
produces Odoo's read format. Writes are all-or-nothing, like a transaction: every value and
constraint is checked before any row changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sandbox.crm.definition import ModelDef, Row
from sandbox.crm.domain import M2O, DomainError, compile_domain, parse_order, sort_records
from sandbox.crm.errors import ApplicationError, MissingError, ValidationError
from sandbox.crm.fields import FieldSpec, coerce, format_datetime

__all__ = ["Clock", "Model"]

Clock = Callable[[], datetime]


class Model:
    """The records of one Odoo model; ``models`` is the whole registry, for relations."""

    def __init__(
        self, definition: ModelDef, rows: Iterable[Row], models: Mapping[str, Model], clock: Clock
    ) -> None:
        self.definition = definition
        self.name = definition.name
        self.fields: dict[str, FieldSpec] = {spec.name: spec for spec in definition.fields}
        self._stored = [name for name in self.fields if name not in definition.computed]
        self._models = models
        self._clock = clock
        blank = dict.fromkeys(self._stored)
        self._rows: dict[int, Row] = {
            row["id"]: blank | row for row in sorted(rows, key=lambda row: row["id"])
        }
        self._next_id = max(self._rows, default=0) + 1

    # -- reading ---------------------------------------------------------------------------------

    def get(self, record_id: Any) -> Row | None:
        return self._rows.get(record_id) if isinstance(record_id, int) else None

    def rows(self) -> Iterable[Row]:
        return self._rows.values()

    def field(self, name: Any) -> FieldSpec:
        spec = self.fields.get(name) if isinstance(name, str) else None
        if spec is None:
            raise ApplicationError("ValueError", f"Invalid field {name!r} on model {self.name!r}")
        return spec

    def value(self, row: Row, name: str) -> Any:
        """A field's value in stored form, computing the fields that are not stored."""
        compute = self.definition.computed.get(name)
        return compute(row, self) if compute else row.get(name)

    def display_name(self, record_id: int) -> str:
        row = self.get(record_id)
        return (self.value(row, "display_name") or "") if row else ""

    def render(self, row: Row, names: Iterable[str]) -> dict[str, Any]:
        """One record in Odoo's read format: ``False`` for empty, many2one as ``[id, name]``."""
        record: dict[str, Any] = {"id": row["id"]}
        for name in names:
            if name == "id":
                continue
            spec, value = self.fields[name], self.value(row, name)
            if spec.type == "many2one" and value:
                record[name] = [value, self._models[spec.relation or ""].display_name(value)]
            else:
                record[name] = False if value is None else value
        return record

    # -- searching -------------------------------------------------------------------------------

    def search(
        self,
        domain: object,
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
    ) -> list[Row]:
        """The matching rows in ``order`` (default: the model's), ties broken by ascending id."""
        try:
            predicate = compile_domain(domain, self.domain_value)
            terms = parse_order(order or self.definition.order)
            rows = [row for row in self._rows.values() if predicate(row)]
            if active_test and "active" in self.fields and not _mentions(domain, "active"):
                rows = [row for row in rows if row.get("active")]
            rows = sort_records(rows, terms, self.sort_value)
        except DomainError as exc:
            raise ApplicationError("ValueError", str(exc)) from None
        return rows[offset : offset + limit if limit else None]

    def domain_value(self, path: str) -> Callable[[Row], Any]:
        """A getter for a domain's left side; ``partner_id.name`` follows a many2one."""
        head, _, rest = path.partition(".")
        spec = self.fields.get(head)
        if spec is None or (rest and spec.type != "many2one"):
            raise DomainError(f"Invalid field {self.name}.{path}")
        if spec.type == "many2one":
            comodel = self._models[spec.relation or ""]
            if rest:
                inner = comodel.domain_value(rest)

                def follow(row: Row) -> Any:
                    target = comodel.get(row.get(head))
                    return None if target is None else inner(target)

                return follow
            return lambda row: (
                M2O(row[head], comodel.display_name(row[head])) if row[head] else None
            )
        return lambda row: self.value(row, head)

    def sort_value(self, name: str) -> Callable[[Row], Any]:
        """A getter of sortable values; a many2one sorts by its comodel's own order, as in Odoo."""
        spec = self.fields.get(name)
        if spec is None or not spec.store:
            raise DomainError(f"Invalid field {name!r} on model {self.name!r}")
        if spec.type == "many2one":
            comodel = self._models[spec.relation or ""]
            rank = {row["id"]: n for n, row in enumerate(comodel.search([], active_test=False))}
            return lambda row: rank.get(row.get(name))
        if spec.type == "boolean":
            return lambda row: bool(row.get(name))
        return lambda row: self.value(row, name)

    # -- writing ---------------------------------------------------------------------------------

    def create(self, vals_list: list[Mapping[str, Any]], uid: int) -> list[int]:
        """Create one row per dict; unknown fields are ignored, as Odoo does (with a warning)."""
        now = self._now()
        created: list[Row] = []
        for offset, vals in enumerate(vals_list):
            row = dict.fromkeys(self._stored) | self.definition.defaults(uid)
            row |= self._convert(vals, ignore_unknown=True)
            row["id"] = self._next_id + offset
            row.update({name: now for name in ("create_date", "write_date") if name in self.fields})
            self._validate(row)
            created.append(row)
        for row in created:
            self._rows[row["id"]] = row
        self._next_id += len(created)
        return [row["id"] for row in created]

    def write(self, ids: list[int], vals: Mapping[str, Any], uid: int) -> None:
        missing = [record_id for record_id in dict.fromkeys(ids) if record_id not in self._rows]
        if missing:
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {self.name}{tuple(missing)!r}, User: {uid})"
            )
        values = self._convert(vals, ignore_unknown=False)
        if "write_date" in self.fields:
            values["write_date"] = self._now()
        updated = [self._rows[record_id] | values for record_id in ids]
        for row in updated:
            self._validate(row)
        for row in updated:
            self._rows[row["id"]] = row

    def unlink(self, ids: list[int]) -> None:
        """Delete the rows (missing ones are no error); many2one fields pointing at them empty."""
        doomed = {record_id for record_id in ids if record_id in self._rows}
        for record_id in doomed:
            del self._rows[record_id]
        for model in self._models.values():
            model._forget(self.name, doomed)

    def _forget(self, relation: str, ids: set[int]) -> None:
        for spec in self.fields.values():
            if spec.type == "many2one" and spec.relation == relation:
                for row in self._rows.values():
                    if row.get(spec.name) in ids:
                        row[spec.name] = None

    def _convert(self, vals: Mapping[str, Any], *, ignore_unknown: bool) -> Row:
        values: Row = {}
        for name, value in vals.items():
            spec = self.fields.get(name)
            if spec is None and ignore_unknown:
                continue
            spec = self.field(name)
            if spec.readonly:
                continue  # Odoo ignores writes to computed and magic fields
            stored = coerce(self.name, spec, value)
            if spec.type == "many2one" and stored is not None:
                self._check_reference(spec, stored)
            values[name] = stored
        return values

    def _check_reference(self, spec: FieldSpec, record_id: int) -> None:
        if self._models[spec.relation or ""].get(record_id) is None:
            raise ValidationError(
                "The operation cannot be completed: another model requires the record being "
                "deleted. If possible, archive it instead.\n\n"
                f"Model: {self.definition.description} ({self.name})\n"
                f"Constraint: {self.name.replace('.', '_')}_{spec.name}_fkey\n"
            )

    def _validate(self, row: Row) -> None:
        for spec in self.fields.values():
            if spec.required and spec.name in self._stored and row.get(spec.name) is None:
                raise ValidationError(
                    "The operation cannot be completed:\n"
                    "- Create/update: a mandatory field is not set.\n"
                    "- Delete: another model requires the record being deleted. "
                    "If possible, archive it instead.\n\n"
                    f"Model: {self.definition.description} ({self.name})\n"
                    f"Field: {spec.string} ({spec.name})\n"
                )
        for constraint in self.definition.constraints:
            if not constraint.check(row):
                raise ValidationError(f"The operation cannot be completed: {constraint.message}")

    def _now(self) -> str:
        moment = self._clock()
        return format_datetime(moment.astimezone(UTC) if moment.tzinfo else moment)


def _mentions(domain: object, name: str) -> bool:
    """Whether a domain has a leaf on ``name`` (Odoo then drops its implicit ``active`` filter)."""
    if not isinstance(domain, list | tuple):
        return False
    return any(isinstance(term, list | tuple) and term and term[0] == name for term in domain)
