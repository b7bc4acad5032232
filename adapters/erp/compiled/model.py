"""The compiled form of a WSDL's types: flat records the codecs walk without asking zeep anything.

zeep answers every question about a type (is it optional? what is its text form?) by walking its
own objects on every call; that is where its time goes. The compiler asks once and stores the
answers here: a :class:`Struct` is a complex type as an ordered tuple of :class:`Field`, and each
field holds its element's tag, occurrence bounds, nillability, the value zeep gives it when it is
absent, and either a :class:`~adapters.erp.compiled.xsdtypes.SimpleCodec` or a nested struct.

Two exceptions split the work with zeep. :class:`NotCompilable` is raised at startup when a type
uses a construct the compiler does not cover; the operation then keeps using zeep. :class:`Deviation`
is raised during a call when a value or a reply leaves the well-trodden path (an ``xsi:type``, an
element out of order, a zeep object among the params ...); that one call is then redone by zeep,
so zeep decides every unusual case, including which error to raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.erp.compiled.xsdtypes import SimpleCodec

__all__ = ["UNBOUNDED", "Deviation", "Field", "NotCompilable", "Struct"]

#: ``max_occurs`` of an unbounded element (zeep says ``"unbounded"``).
UNBOUNDED = 2**31 - 1


class NotCompilable(Exception):
    """The operation uses a construct the compiler leaves to zeep; the message says which."""


class Deviation(Exception):
    """This call leaves the compiled path: zeep redoes it, and decides what is right."""


@dataclass(eq=False, slots=True)
class Field:
    """One element of a complex type's content, in document order."""

    name: str  # the key in the plain dict (zeep's attribute name)
    tag: str  # "{namespace}local", or "local" for an unqualified element
    local: str
    namespace: str | None
    min_occurs: int
    max_occurs: int  # UNBOUNDED when unbounded
    nillable: bool
    absent: Any  # zeep's value for a missing optional or required single element
    simple: SimpleCodec | None = None
    struct: Struct | None = None
    optional: bool = field(init=False)
    repeats: bool = field(init=False)

    def __post_init__(self) -> None:  # plain attributes: the codecs read them per element
        self.optional = self.min_occurs == 0
        self.repeats = self.max_occurs != 1

    def default(self) -> Any:
        """The value zeep fills in when the element is not there (a fresh list for repeats)."""
        return [] if self.repeats else self.absent


@dataclass(eq=False, slots=True)
class Struct:
    """A complex type with element-only content: ``xsd:sequence``, or ``xsd:all`` (``by_tag``)."""

    name: str  # for messages: the type's qualified name, as zeep names it
    zeep_type: Any  # kept for error messages that quote zeep's signature
    fields: tuple[Field, ...] = ()
    names: frozenset[str] = field(default_factory=frozenset)
    empty: bool = False  # no content at all: zeep reads it as None, writes an empty element
    by_tag: dict[str, Field] | None = None  # xsd:all: children match by tag, in any order

    def defaults(self) -> dict[str, Any]:
        """The plain dict zeep makes of the type when none of its elements are present."""
        return {f.name: f.default() for f in self.fields}
