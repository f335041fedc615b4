"""Summary texts as data: one template per layer, rendered here and in the Wireshark plugin.

A layer's one-line summary (``mysummary``) is what dmdissect prints and what
Wireshark's Info column must show.  Written as Python code it could only be
copied into Lua by hand, and the two would drift; written as a small tree of
phrases it is rendered by :meth:`Phrase.render` here and exported by
:meth:`Phrase.lua` as a Lua table that the plugin's runtime renders with the
same rules.  Every phrase works on a Scapy packet and on a compiled values
object alike (both have the C field names and ``missing``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dmdissect.english import mib_text, plural

#: Every count of pages in the protocol is of 4 KiB pages.
PAGE_SIZE = 4096
PAGES_PER_MIB = (1 << 20) // PAGE_SIZE


def mib(pages: int) -> str:
    """Pages of 4 KiB as MiB, written as :func:`~dmdissect.english.mib_text` writes sizes."""
    return mib_text(pages, PAGES_PER_MIB)


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
    if isinstance(value, (Phrase, Condition, Number)):
        return value.lua()
    if isinstance(value, Mapping):
        items = ", ".join(f"[{lua_value(k)}] = {lua_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    raise TypeError(f"no Lua form for {value!r}")


class Code:
    """Python source being compiled from phrases, and the objects it refers to."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}

    def ref(self, value: Any) -> str:
        name = f"ref{len(self.names)}"
        self.names[name] = value
        return name

    def local(self) -> str:
        """A fresh variable name (for a value a phrase uses twice)."""
        return self.ref(None)


def compile_phrase(phrase: Phrase) -> Callable[[Any], str]:
    """``phrase.render`` as one generated Python function.

    Rendering walks the phrase tree with a method call per node; a summary
    line of a status report is a dozen of them.  The generated function is
    one expression with the same rules, and :meth:`Phrase.render` stays the
    definition (the tests hold the two equal on every layer).
    """
    code = Code()
    expression = phrase.py("obj", code)
    source = f"def summary(obj):\n    return {expression}\n"
    namespace = dict(code.names)
    exec(compile(source, f"<summary {phrase.op}>", "exec"), namespace)
    summary = namespace["summary"]
    summary.source = source
    return summary


class Phrase:
    """A piece of summary text; ``op`` and ``args`` are what the Lua runtime sees."""

    op = ""

    def args(self) -> tuple:
        return ()

    def render(self, obj: Any) -> str:
        raise NotImplementedError

    def py(self, obj: str, code: Code) -> str:
        """A Python expression over ``obj`` equal to :meth:`render` (see :func:`compile_phrase`)."""
        return f"{code.ref(self.render)}({obj})"

    def lua(self) -> str:
        return "{" + ", ".join([lua_value(self.op), *(lua_value(a) for a in self.args())]) + "}"


def _phrase(part: Phrase | str) -> Phrase:
    return Text(part) if isinstance(part, str) else part


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
        return f"int({_attr(obj, self.name)})"


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
        return f"int({_attr(_attr(obj, self.struct), self.name)})"


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
        return f"sum([{_attr(item, self.name)} for {item} in {_attr(obj, self.items)} or ()])"


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
        return f"len({_attr(obj, self.name)} or b'')"


def _attr(obj: str, name: str) -> str:
    """``obj.name`` as source; ``getattr`` when the name is not an identifier."""
    return f"{obj}.{name}" if name.isidentifier() else f"getattr({obj}, {name!r})"


def _attr_or_none(obj: str, name: str) -> str:
    return f"getattr({obj}, {name!r}, None)"


def _number(source: Number | str) -> Number:
    return Field(source) if isinstance(source, str) else source


#: How :class:`Value` writes a number.
FORMS: dict[str, Callable[[int], str]] = {
    "dec": str,
    "hex": lambda v: f"{v:#x}",
    "mib": mib,
    "pow2": lambda v: str(1 << v),
}


class Text(Phrase):
    op = "text"

    def __init__(self, text: str) -> None:
        self.text = text

    def args(self) -> tuple:
        return (self.text,)

    def render(self, obj: Any) -> str:
        return self.text

    def py(self, obj: str, code: Code) -> str:
        return repr(self.text)


class Value(Phrase):
    """A number in one of :data:`FORMS` (decimal, ``0x`` hex, MiB of pages, 2**n)."""

    op = "value"

    def __init__(self, source: Number | str, form: str = "dec") -> None:
        if form not in FORMS:
            raise ValueError(f"unknown form {form!r}")
        self.source, self.form = _number(source), form

    def args(self) -> tuple:
        return (self.source, self.form)

    def render(self, obj: Any) -> str:
        return FORMS[self.form](self.source.value(obj))

    def py(self, obj: str, code: Code) -> str:
        value = self.source.py(obj, code)
        if self.form == "dec":
            return f"str({value})"
        if self.form == "hex":
            return f"format({value}, '#x')"
        return f"{code.ref(FORMS[self.form])}({value})"


class Plural(Phrase):
    """``N word`` or ``N words``."""

    op = "plural"

    def __init__(self, source: Number | str, word: str) -> None:
        self.source, self.word = _number(source), word

    def args(self) -> tuple:
        return (self.source, self.word)

    def render(self, obj: Any) -> str:
        return plural(self.source.value(obj), self.word)

    def py(self, obj: str, code: Code) -> str:
        return f"{code.ref(plural)}({self.source.py(obj, code)}, {self.word!r})"


class Seq(Phrase):
    """Phrases one after the other."""

    op = "seq"

    def __init__(self, *parts: Phrase | str) -> None:
        self.parts = [_phrase(p) for p in parts]

    def args(self) -> tuple:
        return tuple(self.parts)

    def render(self, obj: Any) -> str:
        return "".join(part.render(obj) for part in self.parts)

    def py(self, obj: str, code: Code) -> str:
        if not self.parts:
            return "''"
        return "(" + " + ".join(part.py(obj, code) for part in self.parts) + ")"


class Join(Phrase):
    """The parts that are not empty, joined by ``sep``; ``empty`` when all are."""

    op = "join"

    def __init__(self, sep: str, *parts: Phrase | str, empty: str = "") -> None:
        self.sep, self.parts, self.empty = sep, [_phrase(p) for p in parts], empty

    def args(self) -> tuple:
        return (self.sep, self.empty, *self.parts)

    def render(self, obj: Any) -> str:
        texts = [text for part in self.parts if (text := part.render(obj))]
        return self.sep.join(texts) if texts else self.empty

    def py(self, obj: str, code: Code) -> str:
        texts = code.local()
        parts = ", ".join(part.py(obj, code) for part in self.parts)
        return (
            f"({self.sep!r}.join({texts}) if ({texts} := [t for t in ({parts},) if t]) "
            f"else {self.empty!r})"
        )


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
        return f"bool({_attr_or_none(obj, self.name)})"


class Equals(Condition):
    op = "eq"

    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, value

    def args(self) -> tuple:
        return (self.name, self.value)

    def holds(self, obj: Any) -> bool:
        return getattr(obj, self.name, None) == self.value

    def py(self, obj: str, code: Code) -> str:
        return f"({_attr_or_none(obj, self.name)} == {code.ref(self.value)})"


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
        return f"isinstance({_attr_or_none(obj, self.name)}, int)"


class Cut(Condition):
    """The bytes ended before some field of the structure."""

    op = "cut"

    def holds(self, obj: Any) -> bool:
        return bool(getattr(obj, "missing", ()))

    def py(self, obj: str, code: Code) -> str:
        return f"bool(getattr({obj}, 'missing', ()))"


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


class If(Phrase):
    op = "if"

    def __init__(self, cond: Condition, then: Phrase | str, otherwise: Phrase | str = "") -> None:
        self.cond, self.then, self.otherwise = cond, _phrase(then), _phrase(otherwise)

    def args(self) -> tuple:
        return (self.cond, self.then, self.otherwise)

    def render(self, obj: Any) -> str:
        return (self.then if self.cond.holds(obj) else self.otherwise).render(obj)

    def py(self, obj: str, code: Code) -> str:
        return (
            f"({self.then.py(obj, code)} if {self.cond.py(obj, code)} "
            f"else {self.otherwise.py(obj, code)})"
        )


class Sub(Phrase):
    """The summary of a nested structure."""

    op = "sub"

    def __init__(self, name: str) -> None:
        self.name = name

    def args(self) -> tuple:
        return (self.name,)

    def render(self, obj: Any) -> str:
        return getattr(obj, self.name).mysummary()

    def py(self, obj: str, code: Code) -> str:
        return f"{_attr(obj, self.name)}.mysummary()"


class Each(Phrase):
    """The summaries of a list's structures, joined by ``sep``."""

    op = "each"

    def __init__(self, name: str, sep: str) -> None:
        self.name, self.sep = name, sep

    def args(self) -> tuple:
        return (self.name, self.sep)

    def render(self, obj: Any) -> str:
        return self.sep.join(item.mysummary() for item in getattr(obj, self.name) or ())

    def py(self, obj: str, code: Code) -> str:
        item = code.local()
        return (
            f"{self.sep!r}.join([{item}.mysummary() for {item} in {_attr(obj, self.name)} or ()])"
        )


class Name(Phrase):
    """An enumeration's name for the field's value, else ``otherwise``."""

    op = "name"

    def __init__(self, name: str, names: Mapping[int, str], otherwise: Phrase | str) -> None:
        self.name, self.names, self.otherwise = name, dict(names), _phrase(otherwise)

    def args(self) -> tuple:
        return (self.name, self.names, self.otherwise)

    def render(self, obj: Any) -> str:
        label = self.names.get(getattr(obj, self.name))
        return label if label is not None else self.otherwise.render(obj)

    def py(self, obj: str, code: Code) -> str:
        label = code.local()
        names = code.ref(self.names)
        return (
            f"({label} if ({label} := {names}.get({_attr(obj, self.name)})) is not None "
            f"else {self.otherwise.py(obj, code)})"
        )


class Flags(Phrase):
    """A flag set by bit names: :func:`flags_text`."""

    op = "flags"

    def __init__(self, name: str, names: Sequence[str]) -> None:
        self.name, self.names = name, list(names)

    def args(self) -> tuple:
        return (self.name, self.names)

    def render(self, obj: Any) -> str:
        return flags_text(int(getattr(obj, self.name)), self.names)

    def py(self, obj: str, code: Code) -> str:
        return f"{code.ref(flags_text)}(int({_attr(obj, self.name)}), {code.ref(self.names)})"


class Missing(Phrase):
    """The names of the fields the bytes ended before, comma-separated."""

    op = "missing"

    def render(self, obj: Any) -> str:
        return ", ".join(getattr(obj, "missing", ()))

    def py(self, obj: str, code: Code) -> str:
        return f"', '.join(getattr({obj}, 'missing', ()))"


class Version(Phrase):
    """``2.0 (WIN10)`` from a major and a minor field; unknown versions keep their numbers."""

    op = "version"

    def __init__(self, major: str, minor: str, names: Mapping[int, str]) -> None:
        self.major, self.minor, self.names = major, minor, dict(names)

    def args(self) -> tuple:
        return (self.major, self.minor, self.names)

    def render(self, obj: Any) -> str:
        return version_text(getattr(obj, self.major) << 16 | getattr(obj, self.minor), self.names)

    def py(self, obj: str, code: Code) -> str:
        version = f"{_attr(obj, self.major)} << 16 | {_attr(obj, self.minor)}"
        return f"{code.ref(version_text)}({version}, {code.ref(self.names)})"
