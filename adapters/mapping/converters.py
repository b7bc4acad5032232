"""Named converters for the quirks of real legacy systems' values.

A converter is a function of one value. Mappings name them (``convert: many2one``) and may
chain them (``convert: [odoo_false, upper]``). Third-party converters are registered through the
``veneer.converters`` entry-point group. A converter that cannot convert raises
:class:`ConversionError`; one that detects a business failure in the data (SAP return tables)
raises the adapter error it means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from adapters.errors import BackendFault

__all__ = ["BUILTIN_CONVERTERS", "ConversionError", "Converter", "load_converters"]

Converter = Callable[[Any], Any]


class ConversionError(ValueError):
    """A value that the named converter cannot turn into what it promises."""


def odoo_false(value: Any) -> Any:
    """Odoo has no null: ``False`` means empty for every field type except booleans."""
    return None if value is False else value


def many2one(value: Any) -> Any:
    """Odoo's ``[id, "display name"]`` pair (or ``False``) → ``{"id": id, "name": name}`` or null."""
    if value is False or value is None:
        return None
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[0], int):
        return {"id": value[0], "name": value[1]}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"id": value, "name": None}
    raise ConversionError(f"not a many2one pair: {value!r}")


def utc_datetime(value: Any) -> Any:
    """A zone-less ``YYYY-MM-DD HH:MM:SS`` in UTC (Odoo, many SQL-backed systems) → ISO 8601 with Z."""
    if value in (None, False, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip().replace(" ", "T"))
        except ValueError as exc:
            raise ConversionError(f"not a datetime: {value!r}") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def iso_date(value: Any) -> Any:
    """A date (or a string that starts with one) → ``YYYY-MM-DD``; empty → null."""
    if value in (None, False, ""):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError as exc:
        raise ConversionError(f"not a date: {value!r}") from exc


#: Decimal exponents beyond this are refused: ``1E+1000000`` is a valid decimal, and writing it
#: out (or making it an int) would take the event loop for minutes.
MAX_DECIMAL_EXPONENT = 1000


def _decimal(value: Any) -> Decimal | None:
    """Nothing (None, Odoo's False, empty text) is None; zero is zero; anything else must be a
    finite decimal of sane size.

    Not ``value in (None, False, "")``: ``0 == False``, so that read every zero as nothing.
    """
    if value is None or value is False or value == "":
        return None
    if type(value) is Decimal:  # what the SOAP decoders give for xsd:decimal
        number = value
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ConversionError(f"not a decimal number: {value!r}") from exc
    return bounded(number, value)


def bounded(number: Decimal, value: Any) -> Decimal:
    """``number`` if finite and at most ``MAX_DECIMAL_EXPONENT`` digits either side of the point."""
    if not number.is_finite():
        raise ConversionError(f"not a finite number: {value!r}")
    if abs(number.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise ConversionError(f"out of range: {str(value)[:40]!r}")
    return number


def decimal_string(value: Any) -> Any:
    """Money and quantities as exact strings (``"1234.50"``): what a careful client wants."""
    number = _decimal(value)
    return None if number is None else format(number, "f")


def number(value: Any) -> Any:
    """Decimals as JSON numbers (integers stay integers): what a chart wants."""
    parsed = _decimal(value)
    if parsed is None:
        return None
    return int(parsed) if parsed == parsed.to_integral_value() else float(parsed)


def integer(value: Any) -> Any:
    parsed = _decimal(value)
    if parsed is None:
        return None
    if parsed != parsed.to_integral_value():
        raise ConversionError(f"not a whole number: {value!r}")
    return int(parsed)


def boolean(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "y", "x"}:
        return True
    if text in {"false", "0", "no", "n", ""}:
        return False
    raise ConversionError(f"not a boolean: {value!r}")


def text(value: Any) -> Any:
    return None if value is None else str(value)


def csv_list(value: Any) -> Any:
    """``"A,B, C"`` → ``["A", "B", "C"]`` (query parameters that carry several values)."""
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def sap_return(value: Any) -> Any:
    """An SAP BAPI ``RETURN`` table: rows of TYPE ``E`` (or ``A``) mean the call failed.

    Success passes the rows through; failure raises a permanent :class:`BackendFault`
    carrying the first error row's MESSAGE and its ID/NUMBER as the code.
    """
    rows = (
        value if isinstance(value, list | tuple) else [value] if isinstance(value, Mapping) else []
    )
    for row in rows:
        if isinstance(row, Mapping) and str(row.get("TYPE", "")).upper() in {"E", "A"}:
            code = "/".join(str(row[k]) for k in ("ID", "NUMBER") if row.get(k))
            raise BackendFault(
                str(row.get("MESSAGE") or "the backend reported an error"), code=code or None
            )
    return value


def first(value: Any) -> Any:
    """The first element of a list (``read`` returns a list even for one id), or null."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def odoo_order(value: Any) -> Any:
    """An API sort key (``name``, ``-write_date``) → an Odoo order with ``id`` as tie-breaker.

    Paging by offset is only stable when the order is total, hence the trailing ``id``.
    """
    if value in (None, ""):
        return "id asc"
    text = str(value).strip()
    descending = text.startswith("-")
    name = text.lstrip("-+")
    if not name.replace("_", "").isalnum():
        raise ConversionError(f"not a field name: {value!r}")
    order = f"{name} {'desc' if descending else 'asc'}"
    return order if name == "id" else f"{order}, id asc"


BUILTIN_CONVERTERS: dict[str, Converter] = {
    "odoo_order": odoo_order,
    "odoo_false": odoo_false,
    "many2one": many2one,
    "utc_datetime": utc_datetime,
    "date": iso_date,
    "decimal": decimal_string,
    "number": number,
    "int": integer,
    "bool": boolean,
    "str": text,
    "csv": csv_list,
    "sap_return": sap_return,
    "first": first,
    "upper": lambda v: v.upper() if isinstance(v, str) else v,
    "lower": lambda v: v.lower() if isinstance(v, str) else v,
}


def load_converters(
    discover: Callable[[], Iterable[EntryPoint]] | None = None,
) -> dict[str, Converter]:
    """Built-ins plus ``veneer.converters`` entry points (which cannot shadow a built-in)."""
    found = dict(BUILTIN_CONVERTERS)
    plugins = discover() if discover else entry_points(group="veneer.converters")
    for ep in plugins:
        if ep.name not in found:
            found[ep.name] = ep.load()
    return found
