"""Read a YAML configuration file into plain data, remembering where every value came from.

Two things PyYAML does not do for us, and a gateway's configuration needs:

- **Positions.** Every value is recorded with its line and column, so an error can say
  ``gateway.yaml:42:7``. Duplicate keys, which PyYAML silently resolves to the last one, are errors.
- **Environment references.** ``${VAR}`` and ``${VAR:-default}`` inside string scalars are
  substituted after parsing (never on the raw text, so a value cannot inject YAML). The result of
  a substitution is an :class:`EnvStr`, which the binder may coerce to a number or a boolean, and
  which marks the value as coming from outside the file (secrets must).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from facade.settings.issues import ConfigIssue, Path_

__all__ = ["UNRESOLVED", "EnvStr", "SourceDocument", "read_source"]

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ESCAPED = "$${"


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false.

    YAML 1.1 also reads yes/no/on/off as booleans, which turns NAV's field ``No`` or the
    country code ``NO`` into False. Integrators should not have to know that.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _Unresolved:
    """Stands where a reference could not be substituted; already reported, so binders skip it."""

    def __repr__(self) -> str:
        return "<unresolved>"


UNRESOLVED: Any = _Unresolved()


class EnvStr(str):
    """A string that was produced, wholly or partly, from an environment reference."""

    __slots__ = ()


@dataclass
class SourceDocument:
    """Plain data from one file, plus positions and problems found while reading it."""

    path: Path
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)
    #: SHA-256 (hex) of the file's bytes as read: which version of the file this is
    digest: str = ""

    def position(self, path: Path_) -> tuple[int, int] | None:
        """The position of ``path``, or of its nearest ancestor that has one."""
        while True:
            if path in self.marks:
                return self.marks[path]
            if not path:
                return None
            path = path[:-1]


def read_source(
    path: Path, environ: Mapping[str, str] | None = None, *, substitute: bool = True
) -> SourceDocument:
    """Parse ``path`` and substitute environment references; never raises on bad content.

    ``substitute=False`` keeps ``${VAR}`` references as written (what an editor's schema sees).
    """
    environ = os.environ if environ is None else environ
    doc = SourceDocument(path=path, data=None)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        doc.issues.append(ConfigIssue((), f"cannot read the file: {exc.strerror or exc}"))
        return doc
    doc.digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        doc.issues.append(ConfigIssue((), f"cannot decode byte {exc.start}", expected="UTF-8 text"))
        return doc
    try:
        node = yaml.compose(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (mark.line + 1, mark.column + 1) if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        doc.issues.append(ConfigIssue((), f"not valid YAML: {problem}", position=where))
        return doc
    if node is None:
        doc.data = {}
        return doc
    doc.data = _Converter(doc, environ, substitute).convert(node, ())
    return doc


class _Converter:
    """Turn a composed YAML node tree into plain data with positions and substitutions."""

    def __init__(
        self, doc: SourceDocument, environ: Mapping[str, str], substitute: bool = True
    ) -> None:
        self.doc = doc
        self.environ = environ
        self.substitute = substitute
        self._constructor = _Yaml12Loader("")

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        value = self._constructor.construct_object(node, deep=True)
        if isinstance(value, str) and self.substitute:
            return self._substitute(value, path)
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` or `<<: [*a, *b]`
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in reversed(sources):
                    if not isinstance(source, yaml.MappingNode):
                        self._issue(path, "`<<` merges mappings only", key_node)
                        continue
                    merged.update(self._mapping(source, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._issue(path, "keys must be plain scalars, not lists or mappings", key_node)
                continue
            key = key_node.value  # the text as written: a key is a name, never a number or boolean
            key_path = (*path, str(key))
            if str(key) in result:
                self._issue(key_path, "duplicate key: the earlier value would be ignored", key_node)
                continue
            result[str(key)] = self.convert(value_node, key_path)
        return {**merged, **result}  # explicit keys win over merged ones

    def _substitute(self, value: str, path: Path_) -> Any:
        if "${" not in value:
            return value
        missing: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = self.environ.get(name)
            if found is not None and found != "":
                return found
            if default is not None:
                return default
            missing.append(name)
            return ""

        parts = value.split(_ESCAPED)
        result = "${".join(_REFERENCE.sub(replace, part) for part in parts)
        for name in missing:
            self._issue(
                path,
                f"environment variable {name} is not set and has no default",
                expected=f"export {name}=..., or write ${{{name}:-default}}",
            )
        return UNRESOLVED if missing else EnvStr(result)

    def _issue(self, path: Path_, message: str, node: yaml.Node | None = None, **kw: Any) -> None:
        where = (
            (node.start_mark.line + 1, node.start_mark.column + 1)
            if node
            else self.doc.position(path)
        )
        self.doc.issues.append(ConfigIssue(path, message, position=where, **kw))
