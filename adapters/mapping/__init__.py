"""Declarative mappings between REST requests, operation params, results and JSON."""

from adapters.mapping.converters import (
    BUILTIN_CONVERTERS,
    ConversionError,
    Converter,
    load_converters,
)
from adapters.mapping.template import (
    MISSING,
    REQUEST_ROOTS,
    RESPONSE_ROOTS,
    MappingError,
    Template,
    compile_template,
)

__all__ = [
    "BUILTIN_CONVERTERS",
    "MISSING",
    "REQUEST_ROOTS",
    "RESPONSE_ROOTS",
    "ConversionError",
    "Converter",
    "MappingError",
    "Template",
    "compile_template",
    "load_converters",
]
