"""From zeep's loaded schema objects to :mod:`~adapters.erp.compiled.model` records.

What compiles, and why only that: the codecs must give exactly what zeep gives, so the compiler
takes the constructs whose zeep semantics are simple enough to restate and proven by the
differential tests, and refuses the rest with a reason (the operation then stays on zeep):

- elements (local or by ``ref``) with any ``minOccurs``/``maxOccurs``, ``nillable``, defaults;
- complex types whose content is an ``xsd:sequence``, including nested sequences and group
  references of sequences (zeep flattens both), extensions (zeep merges them into one sequence),
  recursive types, and empty types; or an ``xsd:all`` of elements;
- simple types that zeep reads and writes the standard way (see :mod:`.xsdtypes`):
  every XSD builtin but QName/NOTATION, restrictions and enumerations of them, lists.

Refused: ``xsd:choice`` (zeep's matching rules are its own), repeated sequences
and groups, ``xsd:any`` and ``xsd:anyType`` content, attributes (and so ``simpleContent``),
SOAP-encoded arrays, and element names that collide after flattening.
"""

from __future__ import annotations

from typing import Any

from zeep.xsd.elements import All, Element, Group, Sequence
from zeep.xsd.types import ComplexType
from zeep.xsd.types.simple import AnySimpleType

from adapters.erp.compiled.model import UNBOUNDED, Field, NotCompilable, Struct
from adapters.erp.compiled.xsdtypes import simple_codec

__all__ = ["TypeCompiler"]


class TypeCompiler:
    """Compiles elements and types, each complex type once (which also ends recursion)."""

    def __init__(self) -> None:
        self._structs: dict[int, Struct] = {}

    def field(self, name: str, element: Any) -> Field:
        """The :class:`Field` for a zeep ``Element`` known to its parent as ``name``."""
        if type(element) is not Element:
            raise NotCompilable(f"{name}: {type(element).__name__} content")
        qname = element.qname
        max_occurs = element.max_occurs
        result = Field(
            name=name,
            tag=qname.text,
            local=qname.localname,
            namespace=qname.namespace or None,
            min_occurs=int(element.min_occurs),
            max_occurs=UNBOUNDED if max_occurs == "unbounded" else int(max_occurs),
            nillable=bool(element.nillable),
            absent=None if element.accepts_multiple else element.default_value,
        )
        type_ = element.type
        if isinstance(type_, AnySimpleType):
            try:
                result.simple = simple_codec(type_)
            except ValueError as exc:
                raise NotCompilable(f"{name}: {exc}") from None
        elif isinstance(type_, ComplexType):
            result.struct = self.struct(type_)
        else:
            raise NotCompilable(f"{name}: xsd:anyType content")
        return result

    def struct(self, type_: ComplexType) -> Struct:
        """The :class:`Struct` of a complex type; raise :class:`NotCompilable` if refused."""
        known = self._structs.get(id(type_))
        if known is not None:
            return known
        name = _type_name(type_)
        cls = type(type_)
        if (
            cls.parse_xmlelement is not ComplexType.parse_xmlelement
            or cls.render is not ComplexType.render
        ):
            raise NotCompilable(f"{name}: a special complex type ({cls.__name__})")
        if type_._array_type is not None:
            raise NotCompilable(f"{name}: a SOAP-encoded array")
        if type_.attributes:
            raise NotCompilable(f"{name}: attributes")
        struct = Struct(name=name, zeep_type=type_)
        self._structs[id(type_)] = struct  # before the fields: a field may be of this type
        if not type_.elements:
            struct.empty = True
            return struct
        ((_, content),) = type_.elements_nested
        unordered = type(content) is All
        if unordered:
            _check_all(name, content)
        else:
            _check_sequence(name, content)
        fields = tuple(self.field(key, element) for key, element in content.elements)
        names = frozenset(f.name for f in fields)
        if len(names) != len(fields):
            raise NotCompilable(f"{name}: element names repeat once sequences are flattened")
        struct.fields = fields
        struct.names = names
        if unordered:
            struct.by_tag = {f.tag: f for f in fields}
            if len(struct.by_tag) != len(fields):
                raise NotCompilable(f"{name}: an xsd:all with the same element twice")
        return struct


def _check_all(where: str, container: Any) -> None:
    """Accept an ``xsd:all`` of elements (zeep matches its children by exact tag)."""
    if container.accepts_multiple or container._consume_other:
        raise NotCompilable(f"{where}: a repeated xsd:all")
    for key, child in container.elements_nested:
        if type(child) is not Element:
            raise NotCompilable(f"{where}: {type(child).__name__} content in xsd:all ({key})")


def _check_sequence(where: str, container: Any) -> None:
    """Accept a sequence that occurs once, whose nested containers are the same (zeep flattens
    them); raise :class:`NotCompilable` for anything else."""
    if isinstance(container, Group):
        if container.accepts_multiple:
            raise NotCompilable(f"{where}: a repeated group")
        container = container.child
    if type(container) is not Sequence:
        raise NotCompilable(f"{where}: xsd:{type(container).__name__.lower()} content")
    if container.accepts_multiple:
        raise NotCompilable(f"{where}: a repeated sequence")
    for key, child in container.elements_nested:
        if type(child) is Element:
            continue
        if key is not None:  # zeep names repeated containers, xsd:any and choices
            raise NotCompilable(f"{where}: {type(child).__name__} content ({key})")
        _check_sequence(where, child)


def _type_name(type_: ComplexType) -> str:
    qname = type_.qname
    if qname is not None:
        return str(qname.localname)
    return f"anonymous {type(type_).__name__}"
