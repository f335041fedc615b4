"""The layers' summary templates and conditions as Lua expressions.

A template of :mod:`dmdissect.views.phrases` (the one Python renders for the
summary line) becomes one Lua expression over ``obj``, the values a generated
layer function read; the plugin evaluates it per packet without walking the
template.  Conditions compile the same way, for the templates and for the
layers' optional and type-changing fields.  The helpers the expressions call
(``dec``, ``mib``, ``plural``, ``join``, ...) are in ``runtime.lua``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dmdissect.layers.expressions import Condition, Number, lua_value
from dmdissect.views.phrases import Phrase


def _get(obj: str, name: str) -> str:
    return f"{obj}.{name}" if name.isidentifier() else f"{obj}[{lua_value(name)}]"


class Compiler:
    """Compiles phrases and conditions; constant tables go to ``constant``."""

    def __init__(self, constant: Callable[[Any], str], obj: str = "obj", ctx: str = "obj.__ctx"):
        self.constant, self.obj, self.ctx = constant, obj, ctx

    def number(self, source: Number) -> str:
        op, args = source.op, source.args()
        if op == "field":
            return _get(self.obj, args[0])
        if op == "nested":
            inner = _get(self.obj, args[0])
            return f"({inner} and {_get(inner, args[1])})"
        if op == "sum":
            return f"sum_of({_get(self.obj, args[0])}, {lua_value(args[1])})"
        if op == "len":
            return f"len_of({_get(self.obj, args[0])})"
        raise TypeError(f"no Lua form for the number {source!r}")

    def condition(self, cond: Condition) -> str:
        op, args = cond.op, cond.args()
        if op == "set":
            return f"not is_zero({_get(self.obj, args[0])})"
        if op == "eq":
            value = _get(self.obj, args[0])
            return f"({value} ~= nil and tonum({value}) == {lua_value(args[1])})"
        if op == "present":
            return f"{_get(self.obj, args[0])} ~= nil"
        if op == "isnumber":
            return f"is_number({_get(self.obj, args[0])})"
        if op == "fewer":
            items, count = (_get(self.obj, name) for name in args)
            return f"#({items} or NOTHING) < ({count} or 0)"
        if op == "cut":
            return f"#{self.obj}.missing > 0"
        if op == "not":
            return f"not ({self.condition(args[0])})"
        if op in ("all", "any"):
            joined = f" {'and' if op == 'all' else 'or'} ".join(
                f"({self.condition(inner)})" for inner in args
            )
            return f"({joined})"
        if op == "hdr_size_at_least":
            return f"({self.ctx}.size or 0) >= {lua_value(args[0])}"
        raise TypeError(f"no Lua form for the condition {cond!r}")

    def phrase(self, phrase: Phrase) -> str:
        op, args = phrase.op, phrase.args()
        if op == "text":
            return lua_value(args[0])
        if op == "value":
            number = self.number(args[0])
            if args[1] == "pow2":
                return f"dec(2 ^ tonum({number}))"
            return f"{args[1]}({number})"
        if op == "plural":
            return f"plural({self.number(args[0])}, {lua_value(args[1])})"
        if op == "seq":
            # Unparenthesised: Lua joins a whole chain of ``..`` in one step, where each
            # parenthesised part would be a string of its own first.  ``..`` binds tighter
            # than ``and``/``or`` and is never an operand of anything tighter here.
            return " .. ".join(self.phrase(part) for part in args) or '""'
        if op == "join":
            parts = ", ".join(self.phrase(part) for part in args[2:])
            return f"join({lua_value(args[0])}, {lua_value(args[1])}, {parts})"
        if op == "if":
            # A phrase is always a string, never nil or false: "and/or" is a safe choice.
            cond, then, otherwise = args
            return f"(({self.condition(cond)}) and {self.phrase(then)} or {self.phrase(otherwise)})"
        if op == "sub":
            return f"summary_of({_get(self.obj, args[0])})"
        if op == "each":
            return f"each({_get(self.obj, args[0])}, {lua_value(args[1])}, {lua_value(args[2])})"
        if op == "name":
            names = self.constant(dict(args[1]))
            value = _get(self.obj, args[0])
            return f"({names}[tonum({value})] or {self.phrase(args[2])})"
        if op == "flags":
            return f"flags_text({_get(self.obj, args[0])}, {self.constant(list(args[1]))})"
        if op == "missing":
            return f'table.concat({self.obj}.missing, ", ")'
        if op == "version":
            major, minor, names = args
            return (
                f"version_text({_get(self.obj, major)}, {_get(self.obj, minor)}, "
                f"{self.constant(dict(names))})"
            )
        raise TypeError(f"no Lua form for the phrase {phrase!r}")
