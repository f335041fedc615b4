"""Numbers and conditions over a layer's values, for Python and for the Wireshark plugin.

A condition says when an optional or type-changing field is there (the
hot-add request's region, an info entry's page count); a number says where
a value comes from (a field, a nested field, a sum over a list).  Both are
data rather than code so that the same test runs in three places: as a
Scapy field's condition, compiled into Python (:class:`Code`), and exported
as a Lua expression (:func:`lua_value`) to the generated plugin.  They hold
no English: the summary templates built on them are the views'
(:mod:`dmdissect.views.phrases`).  Every one works on a Scapy packet and on
a compiled values object alike (both have the C field names and ``missing``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def version_text(version: int, names: Mapping[int, str]) -> str:
    """``2.0 (WIN10)``; unknown versions keep their numbers only."""
    text = f"{version >> 16}.{version & 0xFFFF}"
    label = names.get(version)
    return f"{text} ({label})" if label else text


def flags_text(value: int, names: Sequence[str]) -> str:
    """``LARGE+LOCAL``; bits without a name as one hex rest (``LARGE+0xfc``)."""
    parts = [name for bit, name in enumerate(names) if value >> bit & 1]
    rest = value & ~((1 << len(names)) - 1)
    if rest:
        parts.append(f"{rest:#x}")
    return "+".join(parts)


def _lua_string(text: str) -> str:
    return (
        '"'
        + "".join(
            ch if ch.isalnum() or ch in " ,.:;()+-_#%/'[]" else f"\\{ord(ch):03d}" for ch in text
        )
        + '"'
    )


def lua_value(value: Any) -> str:
    """A Python constant (str, int, None, bool, list, dict) as a Lua expression."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _lua_string(value)
    lua = getattr(value, "lua", None)
    if lua is not None:
        # A template piece (a number, a condition, a phrase of the views) writes itself.
        return str(lua())
    if isinstance(value, Mapping):
        items = ", ".join(f"[{lua_value(k)}] = {lua_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    raise TypeError(f"no Lua form for {value!r}")


class Code:
    """Python source being compiled from phrases, and the objects it refers to."""

    def __init__(self, exact: bool = False) -> None:
        self.names: dict[str, Any] = {}
        #: The objects are compiled values, whose numbers are ints already: no ``int()``.
        self.exact = exact

    def ref(self, value: Any) -> str:
        name = f"ref{len(self.names)}"
        self.names[name] = value
        return name

    def local(self) -> str:
        """A fresh variable name (for a value a phrase uses twice)."""
        return self.ref(None)


class Number:
    """Where a number comes from: a field, a sum over a list, a length."""

    op = ""

    def value(self, obj: Any) -> int:
        raise NotImplementedError

    def py(self, obj: str, code: Code) -> str:
        """A Python expression over ``obj`` equal to :meth:`value`."""
        return f"{code.ref(self.value)}({obj})"

    def lua(self) -> str:
        return "{" + ", ".join(lua_value(a) for a in (self.op, *self.args())) + "}"

    def args(self) -> tuple:
        return ()


class Field(Number):
    op = "field"

    def __init__(self, name: str) -> None:
        self.name = name

    def args(self) -> tuple:
        return (self.name,)

    def value(self, obj: Any) -> int:
        return int(getattr(obj, self.name))

    def py(self, obj: str, code: Code) -> str:
        value = attr(obj, self.name)
        return value if code.exact else f"int({value})"


class Nested(Number):
    """A field of a nested structure (``range.page_cnt``)."""

    op = "nested"

    def __init__(self, struct: str, name: str) -> None:
        self.struct, self.name = struct, name

    def args(self) -> tuple:
        return (self.struct, self.name)

    def value(self, obj: Any) -> int:
        return int(getattr(getattr(obj, self.struct), self.name))

    def py(self, obj: str, code: Code) -> str:
        value = attr(attr(obj, self.struct), self.name)
        return value if code.exact else f"int({value})"


class SumOf(Number):
    """The sum of one field over a list of structures (pages of every range)."""

    op = "sum"

    def __init__(self, items: str, name: str) -> None:
        self.items, self.name = items, name

    def args(self) -> tuple:
        return (self.items, self.name)

    def value(self, obj: Any) -> int:
        return sum(getattr(item, self.name) for item in getattr(obj, self.items) or ())

    def py(self, obj: str, code: Code) -> str:
        item = code.local()
        return f"sum([{attr(item, self.name)} for {item} in {attr(obj, self.items)} or ()])"


class LengthOf(Number):
    """Bytes in a byte-string field."""

    op = "len"

    def __init__(self, name: str) -> None:
        self.name = name

    def args(self) -> tuple:
        return (self.name,)

    def value(self, obj: Any) -> int:
        return len(getattr(obj, self.name) or b"")

    def py(self, obj: str, code: Code) -> str:
        return f"len({attr(obj, self.name)} or b'')"


def attr(obj: str, name: str) -> str:
    """``obj.name`` as source; ``getattr`` when the name is not an identifier."""
    return f"{obj}.{name}" if name.isidentifier() else f"getattr({obj}, {name!r})"


def attr_or_none(obj: str, name: str) -> str:
    return f"getattr({obj}, {name!r}, None)"


def as_number(source: Number | str) -> Number:
    return Field(source) if isinstance(source, str) else source


class Condition:
    """A test on a layer's values; ``op`` and ``args`` for the Lua runtime."""

    op = ""

    def args(self) -> tuple:
        return ()

    def holds(self, obj: Any) -> bool:
        raise NotImplementedError

    def py(self, obj: str, code: Code) -> str:
        """A Python expression over ``obj`` true exactly when :meth:`holds` is."""
        return f"{code.ref(self.holds)}({obj})"

    def __call__(self, obj: Any) -> bool:
        """Conditions also serve Scapy's fields (a ``MultipleTypeField`` choice)."""
        return self.holds(obj)

    def lua(self) -> str:
        return "{" + ", ".join(lua_value(a) for a in (self.op, *self.args())) + "}"


class Set(Condition):
    """The field is present and not zero (a flag bit that is set)."""

    op = "set"

    def __init__(self, name: str) -> None:
        self.name = name

    def args(self) -> tuple:
        return (self.name,)

    def holds(self, obj: Any) -> bool:
        return bool(getattr(obj, self.name, None))

    def py(self, obj: str, code: Code) -> str:
        return f"bool({attr_or_none(obj, self.name)})"


class Equals(Condition):
    op = "eq"

    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, value

    def args(self) -> tuple:
        return (self.name, self.value)

    def holds(self, obj: Any) -> bool:
        return getattr(obj, self.name, None) == self.value

    def py(self, obj: str, code: Code) -> str:
        return f"({attr_or_none(obj, self.name)} == {code.ref(self.value)})"


class Present(Condition):
    """An optional structure is there (the hot-add request's region)."""

    op = "present"

    def __init__(self, name: str) -> None:
        self.name = name

    def args(self) -> tuple:
        return (self.name,)

    def holds(self, obj: Any) -> bool:
        # A Scapy packet's own values, not getattr: that would evaluate the
        # field's condition, which may be this one.
        fields = getattr(obj, "fields", None)
        if isinstance(fields, dict):
            return fields.get(self.name) is not None
        return getattr(obj, self.name, None) is not None


class IsNumber(Condition):
    """The field was decoded as a number (not as bytes) by a field that changes type."""

    op = "isnumber"

    def __init__(self, name: str) -> None:
        self.name = name

    def args(self) -> tuple:
        return (self.name,)

    def holds(self, obj: Any) -> bool:
        return isinstance(getattr(obj, self.name, None), int)

    def py(self, obj: str, code: Code) -> str:
        return f"isinstance({attr_or_none(obj, self.name)}, int)"


class Cut(Condition):
    """The bytes ended before some field of the structure."""

    op = "cut"

    def holds(self, obj: Any) -> bool:
        return bool(getattr(obj, "missing", ()))

    def py(self, obj: str, code: Code) -> str:
        return f"bool(getattr({obj}, 'missing', ()))"


class Fewer(Condition):
    """A list holds fewer structures than its count says (the bytes ended inside it)."""

    op = "fewer"

    def __init__(self, items: str, count: str) -> None:
        self.items, self.count = items, count

    def args(self) -> tuple:
        return (self.items, self.count)

    def holds(self, obj: Any) -> bool:
        return len(getattr(obj, self.items) or ()) < (getattr(obj, self.count) or 0)

    def py(self, obj: str, code: Code) -> str:
        return f"(len({attr(obj, self.items)} or ()) < ({attr(obj, self.count)} or 0))"


class Not(Condition):
    op = "not"

    def __init__(self, inner: Condition) -> None:
        self.inner = inner

    def args(self) -> tuple:
        return (self.inner,)

    def holds(self, obj: Any) -> bool:
        return not self.inner.holds(obj)

    def py(self, obj: str, code: Code) -> str:
        return f"(not {self.inner.py(obj, code)})"


class All(Condition):
    op = "all"

    def __init__(self, *inner: Condition) -> None:
        self.inner = inner

    def args(self) -> tuple:
        return self.inner

    def holds(self, obj: Any) -> bool:
        return all(c.holds(obj) for c in self.inner)

    def py(self, obj: str, code: Code) -> str:
        return "(" + " and ".join(["True", *(c.py(obj, code) for c in self.inner)]) + ")"


class AnyOf(Condition):
    op = "any"

    def __init__(self, *inner: Condition) -> None:
        self.inner = inner

    def args(self) -> tuple:
        return self.inner

    def holds(self, obj: Any) -> bool:
        return any(c.holds(obj) for c in self.inner)

    def py(self, obj: str, code: Code) -> str:
        return "(" + " or ".join([*(c.py(obj, code) for c in self.inner), "False"]) + ")"


class HeaderSizeAtLeast(Condition):
    """The message's ``hdr.size`` announces at least ``size`` bytes (an optional part)."""

    op = "hdr_size_at_least"

    def __init__(self, size: int) -> None:
        self.size = size

    def args(self) -> tuple:
        return (self.size,)

    def holds(self, obj: Any) -> bool:
        under = getattr(obj, "underlayer", None)
        return (getattr(under, "size", None) or 0) >= self.size
