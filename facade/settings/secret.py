"""A credential read from the environment, which never shows itself by accident."""

from __future__ import annotations

__all__ = ["Secret"]


class Secret:
    """Wrap a secret so that ``repr``, ``str``, logs and JSON dumps show ``***``.

    Only :meth:`reveal` gives the value, and only the code that hands it to a backend calls it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))
