"""The summary line's words: one template per layer, rendered here and in the Wireshark plugin.

A layer's one-line summary is what dmdissect prints and what Wireshark's
Info column must show.  Written as Python code it could only be copied into
Lua by hand, and the two would drift; written as a small tree of phrases
(:data:`SUMMARIES`) it is rendered by :meth:`Phrase.render` here and
exported by :meth:`Phrase.lua` as a Lua table that the plugin's runtime
renders with the same rules.  The layers say what the fields are and mean
(names, enumerations, the conditions of optional fields, in
:mod:`dmdissect.layers.expressions`); the English of the summaries is here,
with the views.  Every phrase works on a Scapy packet and on a compiled
values object alike (both have the C field names and ``missing``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

# Names and numbers only, never a layer class: the table below is keyed by the
# layers' names, so the words and their rules load without the layers' Scapy classes.
from dmdissect.layers import (
    HOT_REMOVE_QOS,
    INFO_TYPES,
    PAGES_PER_MIB,
    PROTOCOL_VERSIONS,
    HotAddResult,
)
from dmdissect.layers.expressions import (
    All,
    Code,
    Condition,
    Cut,
    Equals,
    Fewer,
    IsNumber,
    LengthOf,
    Nested,
    Not,
    Number,
    Present,
    Set,
    SumOf,
    as_number,
    attr,
    flags_text,
    lua_value,
    version_text,
)
from dmdissect.layers.values import Values, layer_name
from dmdissect.views.english import mib_text, plural


def mib(pages: int) -> str:
    """Pages of the protocol's page size as MiB, written as :func:`.english.mib_text` does."""
    return mib_text(pages, PAGES_PER_MIB)


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
        self.source, self.form = as_number(source), form

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
        if self.form == "mib":
            # mib() itself: a whole number of MiB in line, else the words' function with the
            # layers' page size.
            pages = code.local()
            return (
                f"(str({pages} // {PAGES_PER_MIB!r}) + ' MiB' "
                f"if ({pages} := {value}) % {PAGES_PER_MIB!r} == 0 "
                f"else {code.ref(mib_text)}({pages}, {PAGES_PER_MIB!r}))"
            )
        return f"{code.ref(FORMS[self.form])}({value})"


class Plural(Phrase):
    """``N word`` or ``N words``."""

    op = "plural"

    def __init__(self, source: Number | str, word: str) -> None:
        self.source, self.word = as_number(source), word

    def args(self) -> tuple:
        return (self.source, self.word)

    def render(self, obj: Any) -> str:
        return plural(self.source.value(obj), self.word)

    def py(self, obj: str, code: Code) -> str:
        # plural(), in line: a summary line holds up to four counts.
        count = code.local()
        one, many = f" {self.word}", f" {self.word}s"
        return (
            f"(str({count}) + {one!r} if ({count} := {self.source.py(obj, code)}) == 1 "
            f"else str({count}) + {many!r})"
        )


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
        parts = self.flat()
        if not parts:
            return "''"
        if len(parts) == 1:
            return parts[0].py(obj, code)
        # One join, not a new string per part; the tuple keeps the parts' order of evaluation.
        return "''.join((" + ", ".join(part.py(obj, code) for part in parts) + ",))"

    def flat(self) -> list[Phrase]:
        """The parts, those of a nested sequence in its place and neighbouring texts as one
        (the same text, in order)."""
        out: list[Phrase] = []
        for inner in (inner for part in self.parts for inner in _flat(part)):
            if isinstance(inner, Text) and out and isinstance(out[-1], Text):
                out[-1] = Text(out[-1].text + inner.text)
            else:
                out.append(inner)
        return out


def _flat(part: Phrase) -> list[Phrase]:
    return part.flat() if isinstance(part, Seq) else [part]


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
        return summarize(getattr(obj, self.name))

    def py(self, obj: str, code: Code) -> str:
        return f"{code.ref(summarize)}({attr(obj, self.name)})"


#: Structures of a list a summary line names; the rest are counted ("... 8173 more").
EACH_LIMIT = 16


def each_text(items: Any, sep: str) -> str:
    """The summaries of the first :data:`EACH_LIMIT` of ``items``, the rest counted."""
    items = items or ()
    text = sep.join([summarize(item) for item in items[:EACH_LIMIT]])
    more = len(items) - EACH_LIMIT
    return f"{text}{sep}... {more} more" if more > 0 else text


class Each(Phrase):
    """The summaries of a list's structures, joined by ``sep``: the first
    :data:`EACH_LIMIT`, then how many more, so a line stays a line."""

    op = "each"

    def __init__(self, name: str, sep: str) -> None:
        self.name, self.sep = name, sep

    def args(self) -> tuple:
        return (self.name, self.sep, EACH_LIMIT)

    def render(self, obj: Any) -> str:
        return each_text(getattr(obj, self.name), self.sep)

    def py(self, obj: str, code: Code) -> str:
        return f"{code.ref(each_text)}({attr(obj, self.name)}, {self.sep!r})"


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
            f"({label} if ({label} := {names}.get({attr(obj, self.name)})) is not None "
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
        return f"{code.ref(flags_text)}(int({attr(obj, self.name)}), {code.ref(self.names)})"


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
        version = f"{attr(obj, self.major)} << 16 | {attr(obj, self.minor)}"
        return f"{code.ref(version_text)}({version}, {code.ref(self.names)})"


def compile_phrase(phrase: Phrase, exact: bool = False) -> Callable[[Any], str]:
    """``phrase.render`` as one generated Python function.

    Rendering walks the phrase tree with a method call per node; a summary
    line of a status report is a dozen of them.  The generated function is
    one expression with the same rules, and :meth:`Phrase.render` stays the
    definition (the tests hold the two equal on every layer).  ``exact``: for
    compiled values only, whose numbers are ints already (a Scapy field's
    value may be another kind of number, which ``int()`` makes one).
    """
    code = Code(exact)
    expression = phrase.py("obj", code)
    source = f"def summary(obj):\n    return {expression}\n"
    namespace = dict(code.names)
    exec(compile(source, f"<summary {phrase.op}>", "exec"), namespace)
    summary = namespace["summary"]
    summary.source = source
    return summary


# --- the templates -------------------------------------------------------------


def _pages(source: Number | str) -> Seq:
    """``N pages (M MiB)``."""
    return Seq(Plural(source, "page"), " (", Value(source, "mib"), ")")


#: One part of a multi-part exchange: its ranges, pages, and whether more follow.
_PART = Seq(
    "part: ",
    Plural("range_count", "range"),
    ", ",
    # Ranges the bytes ended before are not known: their pages are not in the sum.
    If(Fewer("range_array", "range_count"), "at least "),
    Plural(SumOf("range_array", "page_cnt"), "page"),
    ", ",
    If(Set("more_pages"), "more follow", "last part"),
)

#: Each layer's one-line summary, by the layer's class name: the facts a reader wants first.
SUMMARIES: dict[str, Phrase] = {
    "DMVersion": Version("major_version", "minor_version", PROTOCOL_VERSIONS),
    "DMCaps": Join(
        ", ",
        If(Set("balloon"), "balloon"),
        If(Set("hot_add"), Seq("hot-add (align ", Value("hot_add_alignment", "pow2"), " MiB)")),
        If(Set("hot_remove"), "hot-remove"),
        empty="no capabilities",
    ),
    "DMPageRange": Seq(Value("start_page", "hex"), "+", Value("page_cnt")),
    "DMInfoEntry": If(
        Cut(),
        Seq("entry cut short (missing ", Missing(), ")"),
        Seq(
            Name("type", INFO_TYPES, Seq("type ", Value("type"))),
            " ",
            If(
                IsNumber("data"),
                Seq(Plural("data", "page"), " (", Value("data", "mib"), ")"),
                Plural(LengthOf("data"), "byte"),
            ),
        ),
    ),
    "DMError": Seq("error"),
    "DMVersionRequest": Seq(
        "version ", Sub("version"), If(Set("is_last_attempt"), ", last attempt")
    ),
    "DMVersionResponse": If(Set("is_accepted"), "accepted", "refused"),
    "DMCapabilitiesReport": Seq(
        Sub("caps"),
        ", min ",
        Plural("min_page_cnt", "page"),
        ", max page ",
        Value("max_page_number", "hex"),
    ),
    "DMCapabilitiesResponse": Join(
        ", ",
        If(Set("is_accepted"), "accepted", "refused"),
        If(Set("hot_remove"), "hot-remove"),
        If(Set("suppress_pressure_reports"), "pressure reports suppressed"),
    ),
    "DMStatusReport": Seq("avail ", _pages("num_avail"), ", committed ", _pages("num_committed")),
    "DMBalloonRequest": _pages("num_pages"),
    "DMBalloonResponse": If(
        All(Not(Set("range_count")), Not(Set("more_pages"))),
        "0 ranges, 0 pages (guest at floor)",
        _PART,
    ),
    "DMUnballoonRequest": _PART,
    "DMUnballoonResponse": Seq("done"),
    "DMHotAddRequest": Seq(
        _pages(Nested("range", "page_cnt")),
        " at ",
        Value(Nested("range", "start_page"), "hex"),
        If(
            Present("region"),
            Seq(
                ", region ",
                Value(Nested("region", "page_cnt")),
                " pages at ",
                Value(Nested("region", "start_page"), "hex"),
            ),
        ),
    ),
    "DMHotAddResponse": Seq(
        _pages("page_count"),
        ", ",
        If(
            Equals("result", HotAddResult.SUCCESS),
            "success",
            If(
                Equals("result", HotAddResult.FAILURE),
                "failure (transient)",
                Seq("result ", Value("result")),
            ),
        ),
    ),
    "DMInfoMessage": If(Set("info"), Each("info", "; "), "no entries"),
    "DMHotRemoveRequest": Seq(
        _pages("page_count"),
        ", node ",
        Value("virtual_node"),
        If(Set("qos_flags"), Seq(", qos ", Flags("qos_flags", HOT_REMOVE_QOS))),
    ),
    "DMHotRemoveResponse": Seq("result ", Value("result"), ", ", _PART),
}


def summary_phrase(layer: type) -> Phrase | None:
    """The summary template of a layer class (None: the layer has no summary)."""
    return SUMMARIES.get(layer.__name__)


def summarize(obj: Any) -> str:
    """The summary line of a layer's values: a Scapy packet or a compiled values object."""
    summary = _BY_CLASS.get(type(obj))
    if summary is None:
        exact = isinstance(obj, Values) and not hasattr(obj, "unknown_text")
        summary = _BY_CLASS[type(obj)] = _summary(layer_name(obj), exact) or _nothing
    return summary(obj)


def _nothing(obj: Any) -> str:
    return ""


#: The compiled template of each class seen (values class or Scapy layer), found in one look.
_BY_CLASS: dict[type, Callable[[Any], str]] = {}


@cache
def _summary(name: str, exact: bool = False) -> Callable[[Any], str] | None:
    """The template of the layer called ``name``, compiled once into a function
    (``exact``: for its compiled values, see :func:`compile_phrase`)."""
    template = SUMMARIES.get(name)
    return None if template is None else compile_phrase(template, exact)
