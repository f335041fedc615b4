"""A display filter compiled once into a predicate on dissected messages.

:func:`compile_filter` parses the text (:mod:`.grammar`), resolves every
word against the field registry (:mod:`dmdissect.analysis.registry`), reads
each literal as the type of the field it meets (:mod:`.literals`) and builds
nested closures: evaluating a message runs a few getters and comparisons,
never the parser and never Scapy.

Repeated fields follow Wireshark 4: ``==``, ``<``, ``contains``, ``in`` ...
hold when *any* value does; ``!=`` (``all_ne``) and ``===`` (``all_eq``)
need *every* value (and at least one); ``!==`` (``any_ne``) any; the
quantifiers ``any``/``all`` before a relation choose explicitly.  A field
that is absent satisfies no relation.

A frame holds one message, so every field is in one protocol layer:
``field#N`` is the field when its layers take in layer 1, else nothing.
``@field`` reads the bytes each value came from (the registry's ``raw``
getters).  A field reference ``${field}`` has no value, as in tshark, where
no packet is selected.  Arithmetic on literals alone (``{1 + 15}``) is
folded when the filter is compiled, as the type of the other side.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import regex
from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dmdissect.analysis.registry import (
    BOOL,
    BYTES,
    ENUM,
    FLAGS,
    FLOAT,
    NONE,
    PREFIX,
    STRING,
    TIME,
    UINT,
    FieldDef,
    TimeReference,
    lookup,
)
from dmdissect.filter import literals
from dmdissect.filter.grammar import parser
from dmdissect.filter.macros import MacroError, expand, read_macros
from dmdissect.views.english import plural

Values = Callable[[Any], list]

#: Value types of operands.
INT, REAL, TEXT, RAW, LABEL = "int", "float", "str", "bytes", "none"
_KIND_TYPES = {
    UINT: INT,
    BOOL: INT,
    ENUM: INT,
    FLAGS: INT,
    FLOAT: REAL,
    TIME: REAL,
    STRING: TEXT,
    BYTES: RAW,
    NONE: LABEL,
}


class FilterError(ValueError):
    """An invalid filter: ``message`` in Wireshark's words, ``column`` 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (column {self.column})"


@dataclass
class Operand:
    """One side of a relation: a function from a message to its values, and their type."""

    type: str
    get: Values
    column: int
    text: str
    field: FieldDef | None = None
    literal: Tree | Token | None = None
    sliced: bool = False
    #: The relation was written literal first (``7 == hdr.type``): operands were swapped.
    mirrored: bool = False
    #: The word a field operand was written as (to read it as a literal instead).
    word: Token | None = None
    #: ``@field``: the bytes of the field, not its value.
    raw: bool = False
    #: ``${field}``: a field reference, which has no value without a selected packet.
    reference: bool = False
    #: Arithmetic on a field: the field whose tshark type the result keeps, so a
    #: constant compared with it is checked against that type's range.
    bound: FieldDef | None = None

    @property
    def is_literal(self) -> bool:
        return self.literal is not None


class Filter:
    """A compiled display filter: call it on a message to know whether it matches.

    ``reference`` is the time ``frame.time_relative`` counts from; call
    :meth:`see` on every message of the input in order (the pipeline does),
    whether it matches or not, so that it is the first message's time as in
    tshark.
    """

    def __init__(
        self,
        text: str,
        predicate: Callable[[Any], bool],
        reference: TimeReference,
        warnings: list[FilterError] | None = None,
    ):
        self.text = text
        self.reference = reference
        self._predicate = predicate
        #: What the filter means, but tshark would refuse (each with its column).
        self.warnings = warnings or []

    def see(self, message: Any) -> None:
        self.reference.see(message)

    def __call__(self, message: Any) -> bool:
        return self._predicate(message)


def compile_filter(
    text: str,
    reference: TimeReference | None = None,
    macros: Mapping[str, str] | None = None,
    profile: str | None = None,
) -> Filter:
    """Parse and compile ``text``; raises :class:`FilterError` naming the problem and column.

    ``${name:args}`` macros are expanded first, as tshark does, from ``macros``
    or (None) the ``dfilter_macros`` file Wireshark reads for configuration
    ``profile`` (None: the default one).
    """
    reference = reference or TimeReference()
    if "${" in text:
        try:
            text = expand(
                text, read_macros(profile=profile) if macros is None else macros, _is_field
            )
        except MacroError as exc:
            raise FilterError(exc.message, exc.column) from None
    try:
        tree = parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    if _depth(tree) > MAX_DEPTH:
        raise FilterError(f"The filter nests more than {MAX_DEPTH} levels deep.", 1)
    compiler = _Compiler(text, reference)
    predicate = compiler.expr(tree)
    return Filter(text, predicate, reference, compiler.warnings)


def _is_field(name: str) -> bool:
    """A name ``${name}`` may refer to: a field, not a protocol (tshark's rule)."""
    return lookup(name) is not None and name.removeprefix(PREFIX) not in PROTOCOLS


#: The names that are protocols, not fields, in tshark: no reference can name them.
PROTOCOLS = ("frame", "hvdm")

#: Nesting a filter may have (chains of ``or``/``and`` and runs of ``not`` count once).
MAX_DEPTH = 100


def _chain(node: Tree) -> list:
    """The operands of ``a or b or c`` (a left-leaning tree), read without recursion."""
    kind = node.data
    parts = []
    while isinstance(node, Tree) and node.data == kind:
        parts.append(node.children[2])
        node = node.children[0]
    parts.append(node)
    return parts[::-1]


def _depth(tree: Tree) -> int:
    """How deep the tree nests, chains and runs of ``not`` counted as one level."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        for child in node.children:
            if isinstance(child, Tree):
                same = child.data == node.data and child.data in ("or_", "and_", "not_")
                stack.append((child, level if same else level + 1))
    return deepest


_COLON_WORD = re.compile(r":[A-Za-z0-9_:.\-]+")


def _syntax_error(text: str, exc: UnexpectedInput) -> FilterError:
    end = len(text) + 1
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        return FilterError("Unexpected end of filter expression.", end)
    if isinstance(exc, UnexpectedToken):
        return FilterError(f'"{exc.token}" was unexpected in this context.', exc.token.column)
    if isinstance(exc, UnexpectedCharacters):
        column = exc.column
        # tshark's scanner takes a colon with the word after it as one token (``:0`` in
        # ``1:0``, which is no byte string of two-digit groups).
        colon = _COLON_WORD.match(text, column - 1)
        token = colon.group() if colon else text[column - 1]
        return FilterError(f'"{token}" was unexpected in this context.', column)
    return FilterError("invalid filter.", getattr(exc, "column", 1) or 1)


def _nothing(message: Any) -> list:
    """The values of a literal operand, which are not read from messages."""
    return []


def _column(node: Any) -> int:
    if isinstance(node, Token):
        return node.column or 1
    return node.meta.column if not node.meta.empty else 1


def _type_text(operand: Operand) -> str:
    field = operand.field
    kind = field.kind if field is not None else None
    if operand.sliced or operand.type == RAW:
        return "Byte sequence"
    if field is not None and kind in (UINT, ENUM, FLAGS):
        widths = field.protocol.widths if field.protocol is not None else ()
        if len(widths) == 1:
            bits = widths[0]
            size = f"{bits // 8} bytes" if bits % 8 == 0 else f"{bits} bits"
            return f"Unsigned integer ({size})"
        return "Unsigned integer"
    return {
        BOOL: "Boolean",
        STRING: "Character string",
        TIME: "Date and time",
        FLOAT: "Time offset",
        NONE: "Label",
    }.get(
        kind or "", {INT: "Integer", REAL: "Number", TEXT: "Character string"}.get(operand.type, "")
    )


# --- relations ----------------------------------------------------------------------

_ORDER = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
#: cmp token -> (element operation, default quantifier)
_CMP = {
    "EQ": ("eq", "any"),
    "EQ_W": ("eq", "any"),
    "ANY_EQ": ("eq", "any"),
    "NE": ("ne", "all"),
    "NE_W": ("ne", "all"),
    "ALL_NE": ("ne", "all"),
    "ALL_EQ": ("eq", "all"),
    "ALL_EQ_W": ("eq", "all"),
    "ANY_NE": ("ne", "any"),
    "ANY_NE_OLD": ("ne", "any"),
    "ANY_NE_W": ("ne", "any"),
    "LT": ("lt", "any"),
    "LT_W": ("lt", "any"),
    "LE": ("le", "any"),
    "LE_W": ("le", "any"),
    "GT": ("gt", "any"),
    "GT_W": ("gt", "any"),
    "GE": ("ge", "any"),
    "GE_W": ("ge", "any"),
}
_OPS = {"eq": operator.eq, "ne": operator.ne, **_ORDER}
#: The relation read the other way round, for ``7 < hdr.type``.
_MIRROR = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}


def _quantified(values: Values, test: Callable[[Any], bool], quant: str) -> Callable[[Any], bool]:
    """Any value passes, or (``all``) there is one and every one passes."""
    if quant == "any":
        return lambda m: any(map(test, values(m)))

    def every(m: Any) -> bool:
        found = values(m)
        return bool(found) and all(test(v) for v in found)

    return every


# --- the compiler -------------------------------------------------------------------


class _Compiler:
    def __init__(self, text: str, reference: TimeReference) -> None:
        self.text = text
        self.ref = reference
        self.warnings: list[FilterError] = []

    # logical ---------------------------------------------------------------------

    def expr(self, node: Any) -> Callable[[Any], bool]:
        kind = node.data
        if kind in ("or_", "and_"):
            parts = [self.expr(part) for part in _chain(node)]
            if kind == "or_":
                return lambda m: any(part(m) for part in parts)
            return lambda m: all(part(m) for part in parts)
        if kind == "not_":
            negate = False
            while isinstance(node, Tree) and node.data == "not_":
                negate, node = not negate, node.children[1]
            inner = self.expr(node)
            return (lambda m: not inner(m)) if negate else inner
        return getattr(self, f"_{kind}")(node)

    def _presence(self, node: Tree) -> Callable[[Any], bool]:
        operand = self.operand(node.children[0])
        if operand.is_literal:
            raise self._not_a_field(operand)
        if operand.reference:
            raise FilterError(
                f"{operand.text} is a field reference, which can only be compared with.",
                operand.column,
            )
        values = operand.get
        if operand.field is not None and not operand.sliced:
            return lambda m: bool(values(m))
        return lambda m: any(values(m))

    def _split_quant(self, children: list) -> tuple[str | None, list]:
        if isinstance(children[0], Tree) and children[0].data == "quant":
            return str(children[0].children[0]), children[1:]
        return None, children

    def _compare(self, node: Tree) -> Callable[[Any], bool]:
        quant, (left_node, cmp, right_node) = self._split_quant(node.children)
        token = cmp.children[0]
        op, default = _CMP[token.type]
        left, right = self._pair(left_node, right_node, str(token))
        if left.mirrored:
            op = _MIRROR.get(op, op)
        if left.type == LABEL or right.type == LABEL:
            side = left if left.type == LABEL else right
            kind = _type_text(side)
            raise FilterError(
                f"{side.text} (type={kind}) cannot participate in '{token}' comparison.",
                side.column,
            )
        return self._relation(left, right, _OPS[op], quant or default)

    def _relation(
        self, left: Operand, right: Operand, test: Callable[[Any, Any], bool], quant: str
    ) -> Callable[[Any], bool]:
        lvalues = left.get
        if right.is_literal:
            value = self.literal(right, left)
            unsigned = _ftype(left.field or left.bound) in _FTYPE_MAX
            if isinstance(value, int) and value < 0 and unsigned:
                test = _against_negative(test)
            if test is operator.eq and quant == "any":
                return lambda m: value in lvalues(m)
            if test is operator.eq:
                return _quantified(lvalues, lambda v: v == value, quant)
            return _quantified(lvalues, lambda v: test(v, value), quant)
        rvalues = right.get

        def pairs(m: Any) -> list:
            theirs = rvalues(m)
            return [(a, b) for a in lvalues(m) for b in theirs]

        return _quantified(pairs, lambda pair: test(*pair), quant)

    def _pair(self, left_node: Any, right_node: Any, what: str) -> tuple[Operand, Operand]:
        """Both sides; a literal on the left is mirrored so the field comes first."""
        left, right = self.operand(left_node), self.operand(right_node)
        right = self._as_word(right, left)
        left = self._as_word(left, right)
        if left.is_literal and right.is_literal:
            raise self._not_a_field(left)
        if left.is_literal:
            if what == "contains":
                raise self._not_a_field(left)
            right.mirrored = True
            left, right = right, left
        if not right.is_literal and not _comparable(left.type, right.type):
            raise FilterError(
                f"{left.text} (type={_type_text(left)}) and {right.text} "
                f"(type={_type_text(right)}) are not of compatible types.",
                left.column,
            )
        return left, right

    def _as_word(self, operand: Operand, other: Operand) -> Operand:
        """A bare word that names a field, read as a literal where the other side wants one.

        ``transaction.kind == info`` means the kind "info", not the list
        ``info`` (which no string equals); likewise a value name of the other
        side's enumeration.  Two string fields still compare with each other.
        """
        if (
            operand.field is None
            or operand.word is None
            or operand.sliced
            or other.field is None
            or other.is_literal
            or other.reference
        ):
            return operand
        names = other.field.names or {}
        if operand.text in names or (other.type == TEXT and operand.type != TEXT):
            return Operand("literal", _nothing, operand.column, operand.text, literal=operand.word)
        return operand

    def _member(self, node: Tree, negate: bool = False) -> Callable[[Any], bool]:
        quant, children = self._split_quant(node.children)
        left = self.operand(children[0])
        if left.is_literal:
            raise self._not_a_field(left)
        if left.field is None or left.sliced or left.reference:
            # tshark's rule: a function's value, a slice or a reference is not a field.
            raise FilterError("Only a field may be tested for membership in a set.", left.column)
        if left.type == LABEL:
            raise FilterError(
                f"{left.text} (type={_type_text(left)}) cannot participate in 'in' comparison.",
                left.column,
            )
        singles: set = set()
        spans: list[tuple[Any, Any]] = []
        fields: list[Values] = []
        self._check_separators(children[-1])
        for item in children[-1].children[1:]:
            if not isinstance(item, Tree):
                continue
            if item.data == "span":
                low, high = (
                    self._set_value(part, left) for part in (item.children[0], item.children[2])
                )
                if isinstance(low, Operand) or isinstance(high, Operand):
                    side = low if isinstance(low, Operand) else high
                    raise FilterError(
                        f"{side.text}: a range in a set is between values, not fields.",
                        side.column,
                    )
                spans.append((low, high))
            else:
                value = self._set_value(item.children[0], left)
                if isinstance(value, Operand):
                    fields.append(value.get)
                else:
                    singles.add(value)
        values = left.get

        def inside(v: Any) -> bool:
            return v in singles or any(low <= v <= high for low, high in spans)

        test: Callable[[Any], bool]
        if fields:
            static = _quantified(values, inside, quant or "any")

            def test(m: Any) -> bool:
                others = [v for get in fields for v in get(m)]
                if not others:
                    return static(m)
                return _quantified(values, lambda v: inside(v) or v in others, quant or "any")(m)

        else:
            test = _quantified(values, inside, quant or "any")
        if negate:
            return lambda m: not test(m)
        return test

    def _check_separators(self, members: Tree) -> None:
        """Whitespace alone between set elements: meant as in Wireshark 3.6, refused by 4.0."""
        previous = None
        for child in members.children[1:]:
            if isinstance(child, Tree) and isinstance(previous, Tree):
                self.warnings.append(
                    FilterError(
                        "set elements separated by whitespace alone are deprecated since "
                        "Wireshark 3.6 and refused by 4.0: separate them with commas, "
                        "as in {6, 7, 8}",
                        _column(child),
                    )
                )
                return
            previous = child

    def _not_member(self, node: Tree) -> Callable[[Any], bool]:
        return self._member(node, negate=True)

    def _set_value(self, node: Any, against: Operand) -> Any:
        """A literal of the set, read as ``against``'s type, or (a field) its operand."""
        if isinstance(node, Tree) and node.data == "word" and lookup(str(node.children[0])):
            node = Tree("operand", node.children, node.meta)
        operand = self._as_word(self.operand(node), against)
        if operand.is_literal:
            return self.literal(operand, against)
        if operand.type == LABEL or not _comparable(against.type, operand.type):
            raise FilterError(
                f"{against.text} (type={_type_text(against)}) and {operand.text} "
                f"(type={_type_text(operand)}) are not of compatible types.",
                operand.column,
            )
        return operand

    def _contains(self, node: Tree) -> Callable[[Any], bool]:
        quant, (left_node, token, right_node) = self._split_quant(node.children)
        left, right = self._pair(left_node, right_node, "contains")
        if left.type not in (TEXT, RAW):
            raise FilterError(
                f"{left.text} (type={_type_text(left)}) cannot participate in contains comparison.",
                left.column,
            )
        return self._relation(left, right, lambda a, b: b in a, quant or "any")

    def _matches(self, node: Tree) -> Callable[[Any], bool]:
        quant, (left_node, token, right_node) = self._split_quant(node.children)
        left = self.operand(left_node)
        if left.is_literal:
            raise self._not_a_field(left)
        if left.type not in (TEXT, RAW):
            raise FilterError(
                f"{left.text} (type={_type_text(left)}) cannot participate in {token} comparison.",
                left.column,
            )
        if not (isinstance(right_node, Tree) and right_node.data == "string"):
            raise FilterError(
                f"{token} needs a quoted regular expression, not {_source(self.text, right_node)}.",
                _column(right_node),
            )
        try:
            pattern = literals.quoted(str(right_node.children[0]))
        except literals.LiteralError as exc:
            raise FilterError(str(exc), _column(right_node) + exc.offset) from None
        try:
            compiled = _regex(pattern)
        except regex.error as exc:
            raise FilterError(f"Regex compilation error: {exc}.", _column(right_node)) from None
        search = compiled.search
        values = left.get
        if left.type == RAW:
            return _quantified(
                values, lambda v: search(v.decode("latin-1")) is not None, quant or "any"
            )
        return _quantified(values, lambda v: search(v) is not None, quant or "any")

    # operands ----------------------------------------------------------------------

    def operand(self, node: Any) -> Operand:
        kind = node.data if isinstance(node, Tree) else "word"
        column = _column(node)
        text = _source(self.text, node)
        if kind == "operand":
            return self._field(node, column, text)
        if kind == "reference":
            return self._reference(node.children[0], column, text)
        if kind == "group":
            inner = self.operand(node.children[1])
            if inner.is_literal:
                return Operand("literal", _nothing, column, text, literal=node)
            return inner
        if kind in ("string", "word", "negative", "positive", "char"):
            return Operand("literal", _nothing, column, text, literal=node)
        if kind == "pos":
            # Unary plus changes no value, of any type (tshark: ``frame.comment == +"a"``).
            inner = self.operand(node.children[1])
            if inner.is_literal:
                return Operand("literal", _nothing, column, text, literal=node)
            return inner
        if kind == "neg":
            inner = self.operand(node.children[1])
            if inner.is_literal:
                return Operand("literal", _nothing, column, text, literal=node)
            return self._numeric(inner, "-", lambda v: -v, column, text)
        if kind == "arith":
            return self._arith(node, column, text)
        if kind == "function":
            return self._function(node, column, text)
        raise FilterError(f'"{text}" was unexpected in this context.', column)

    def _field(self, node: Tree, column: int, text: str) -> Operand:
        """A word, or a field with ``@`` before it and a layer (``#N``) or slice after it."""
        tokens = {token.type: token for token in node.children if isinstance(token, Token)}
        word = tokens["WORD"]
        raw, layer, cut = tokens.get("RAW"), tokens.get("LAYER"), tokens.get("SLICE")
        field = lookup(str(word))
        if field is None:
            if raw or layer or cut:
                raise FilterError(f"{word} is neither a field nor a protocol name.", _column(word))
            return Operand("literal", _nothing, column, text, literal=word)
        if raw is not None:
            if field.raw is None:
                raise FilterError(
                    f"{word} has no bytes of its own in the frame: '@' takes a field "
                    "read from the message.",
                    _column(raw),
                )
            get = field.raw
            ref = self.ref
            operand = Operand(RAW, lambda m: get(m, ref), column, text, field, word=None, raw=True)
        else:
            kind = _KIND_TYPES[field.kind]
            word_of = word if layer is None else None
            operand = Operand(kind, self._getter(field), column, text, field, word=word_of)
        if layer is not None:
            operand = self._layer(operand, layer)
        if cut is not None:
            operand = self._slice(operand, cut)
        return operand

    def _layer(self, operand: Operand, token: Token) -> Operand:
        """``field#N``, ``field#[ranges]``: the field's values in those protocol layers.

        A frame here holds one message, so every field is in one layer (the
        first, and the last): a choice that leaves out layer 1 selects nothing.
        """
        if _first_layer_chosen(str(token), token.column or 1):
            return operand
        return Operand(operand.type, _nothing, operand.column, operand.text, operand.field)

    def _reference(self, token: Token, column: int, text: str) -> Operand:
        """``${field}`` or ``$field``: the field's value in the selected packet.

        As in tshark, which has no selected packet, a reference has no value,
        so no relation with it holds (``!(frame.len == ${frame.len})`` holds
        for every message); the field must exist and fit the other side.
        """
        body = str(token)[1:]
        start = column + 1
        if body.startswith("{"):
            if not body.endswith("}"):
                raise FilterError("The field reference has no closing '}'.", column)
            body, start = body[1:-1], column + 2
        name, _, layer = body.partition("#")
        if not name or not _REFERENCE_NAME.fullmatch(name):
            raise FilterError(f'"{body}" is not a field name.', start)
        if layer:
            _first_layer_chosen("#" + layer, start + len(name))
        field = lookup(name)
        if field is None:
            raise FilterError(f"{name} is neither a field nor a protocol name.", start)
        return Operand(
            _KIND_TYPES[field.kind], _nothing, column, text, field, word=None, reference=True
        )

    def _getter(self, field: FieldDef) -> Values:
        get, ref = field.get, self.ref
        return lambda m: get(m, ref)

    def _slice(self, operand: Operand, token: Token) -> Operand:
        if operand.type not in (RAW, TEXT):
            name, kind = operand.word or operand.text, _type_text(operand)
            raise FilterError(
                f'"{name}" is a {kind} and cannot be sliced into a sequence of bytes.',
                operand.column,
            )
        ranges = _slice_ranges(str(token)[1:-1], token.column or 1)
        values = operand.get

        def sliced(m: Any) -> list:
            out = []
            for value in values(m):
                piece = _cut(value, ranges)
                if piece is not None:
                    out.append(piece)
            return out

        return Operand(
            operand.type, sliced, operand.column, operand.text, operand.field, sliced=True
        )

    def _numeric(
        self, inner: Operand, what: str, fn: Callable[[Any], Any], column: int, text: str
    ) -> Operand:
        if inner.type not in (INT, REAL):
            raise FilterError(f"{inner.text} is not a number: cannot use '{what}'.", inner.column)
        values = inner.get
        return Operand(inner.type, lambda m: [fn(v) for v in values(m)], column, text)

    def _arith(self, node: Tree, column: int, text: str) -> Operand:
        left, token = self.operand(node.children[0]), node.children[1]
        right = self.operand(node.children[2])
        if left.is_literal and right.is_literal:
            return Operand("literal", _nothing, column, text, literal=node)
        field_side = right if left.is_literal else left
        if field_side.type not in (INT, REAL):
            raise FilterError(
                f"{field_side.text} (type={_type_text(field_side)}) cannot take part in "
                f"'{token}' arithmetic.",
                field_side.column,
            )
        for side in (left, right):
            _check_time_arithmetic(side, str(token))
        bound = field_side.field or field_side.bound
        fn = _ARITH[str(token)]
        if kind_is_int := REAL not in (left.type, right.type):
            fn = _overflowing(fn, _ftype(bound))
        kind = field_side.type if kind_is_int else REAL
        if left.is_literal or right.is_literal:
            constant = self.literal(left if left.is_literal else right, field_side)
            values = field_side.get
            if left.is_literal:
                get = _safe_map(values, lambda v: fn(constant, v))
            else:
                get = _safe_map(values, lambda v: fn(v, constant))
            return Operand(kind, get, column, text, bound=bound)
        lvalues, rvalues = left.get, right.get

        def combined(m: Any) -> list:
            theirs = rvalues(m)
            out = []
            for a in lvalues(m):
                for b in theirs:
                    try:
                        out.append(fn(a, b))
                    except ArithmeticError:
                        continue
            return out

        return Operand(kind, combined, column, text, bound=bound)

    def _function(self, node: Tree, column: int, text: str) -> Operand:
        name = str(node.children[0])
        args = [self.operand(child) for child in node.children[1:]]
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise FilterError(f"The function '{name}' does not exist.", column)
        low, high = spec[0], spec[1]
        if not low <= len(args) <= high:
            raise FilterError(f"Function '{name}' takes {_arity(low, high)}.", column)
        for arg in args:
            if arg.is_literal:
                raise self._not_a_field(arg)
        return spec[2](self, args, column, text)

    # literals ----------------------------------------------------------------------

    def literal(self, operand: Operand, against: Operand) -> Any:
        """The value of a literal operand, read as the type of ``against``."""
        return self._constant(operand.literal, against, operand.column)

    def _constant(self, node: Any, against: Operand, column: int) -> Any:
        """A literal, or arithmetic on literals (``{1 + 15}``, ``-0x10``), as ``against``'s type."""
        if isinstance(node, Tree) and node.data == "group":
            return self._constant(node.children[1], against, column)
        if isinstance(node, Tree) and node.data in ("pos", "positive"):
            return self._constant(node.children[1], against, column)
        if isinstance(node, Tree) and node.data in ("neg", "negative"):
            self._check_negated(node.children[1], column)
            value = self._constant(node.children[1], against, column)
            if not isinstance(value, (int, float)):
                raise FilterError(
                    f'"-{_source(self.text, node.children[1])}" is not a valid value here.',
                    column,
                )
            return -value
        if isinstance(node, Tree) and node.data == "arith":
            token = node.children[1]
            left = self._constant(node.children[0], against, _column(node.children[0]))
            right = self._constant(node.children[2], against, _column(node.children[2]))
            if not all(isinstance(v, (int, float)) for v in (left, right)):
                raise FilterError(
                    f"{_source(self.text, node)}: '{token}' takes numbers.", _column(node)
                )
            try:
                return _ARITH[str(token)](left, right)
            except ZeroDivisionError:
                raise FilterError("Division by zero.", _column(token)) from None
        if isinstance(node, Tree):
            node = node.children[0]
        token = node
        column = token.column or column
        if token.type == "CHAR":
            try:
                code = literals.character(str(token))
            except literals.LiteralError as exc:
                raise FilterError(str(exc), column + exc.offset) from None
            return _from_code(code, against)
        quoted = token.type == "STRING"
        try:
            text = literals.quoted(str(token)) if quoted else str(token)
            return self._convert(text, quoted, against)
        except literals.LiteralError as exc:
            raise FilterError(str(exc), column + exc.offset) from None

    def _check_negated(self, node: Any, column: int) -> None:
        """tshark negates only numbers: a value's name (``-DM_ERROR``), a string or a
        character constant after a minus is refused in its words."""
        inner = node.children[0] if isinstance(node, Tree) and node.data == "operand" else node
        if isinstance(inner, Tree) and inner.data in ("string", "char"):
            text = _source(self.text, inner)
            raise FilterError(f"{text} is not a valid arithmetic operand.", column)
        sliced = isinstance(node, Tree) and len(node.children) > 1
        if isinstance(inner, Token) and inner.type == "WORD" and not sliced:
            try:
                literals.number(str(inner))
            except literals.LiteralError:
                raise FilterError(f'"{inner}" is not a valid number.', column) from None

    def _convert(self, text: str, quoted: bool, against: Operand) -> Any:
        field = against.field
        kind = against.type
        if kind == INT:
            names = field.names if field is not None and not against.sliced else None
            if names and text in names:
                return names[text]
            if quoted:
                raise literals.LiteralError(
                    f'{_type_text(against)} cannot be converted from a string ("{text}").'
                )
            value = literals.integer(text)
            if value > _FTYPE_MAX["uint64"]:
                raise literals.LiteralError(f'"{text}" causes an integer overflow.')
            top = _FTYPE_MAX.get(_ftype(field or against.bound) or "")
            if top is not None and value > top:
                raise literals.LiteralError(f'"{text}" too big for this field, maximum {top}.')
            return value
        if kind == REAL:
            if field is not None and field.kind == TIME:
                return literals.absolute_time(text)
            return literals.number(text)
        if kind == TEXT:
            return text
        if kind == RAW:
            return text.encode() if quoted else literals.byte_string(text)
        raise literals.LiteralError(f'"{text}" cannot be compared with {against.text}.')

    def _not_a_field(self, operand: Operand) -> FilterError:
        return FilterError(
            f"{operand.text} is neither a field nor a protocol name.", operand.column
        )


#: PCRE's option letters that the regex module has.
_REGEX_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}
#: PCRE's escapes the regex module spells otherwise: ``\x{HHHH}`` and ``\Q...\E``.
_PCRE_ESCAPES = re.compile(r"\\(\\)|\\x\{([0-9A-Fa-f]{1,8})\}|\\Q(.*?)(?:\\E|\Z)", re.DOTALL)
_LEADING_OPTIONS = re.compile(r"\(\?([imsx]*)-([imsx]+)\)")


def _regex(pattern: str) -> regex.Pattern:
    r"""``matches`` as Wireshark has it: PCRE2, case-insensitive unless the pattern says
    ``(?-i)``.

    The regex module reads PCRE's syntax where Python's ``re`` does not (POSIX
    classes ``[[:alpha:]]``, ``\p{L}``, ``\K``, ``\h``); the two escapes it spells
    otherwise are rewritten.  PCRE takes option settings that turn options off
    (``(?-i)``, ``(?s-i)``); at the start of the pattern they become flags.
    """
    pattern = _PCRE_ESCAPES.sub(_pcre_escape, pattern)
    flags = regex.IGNORECASE
    leading = _LEADING_OPTIONS.match(pattern)
    if leading:
        for letter in leading.group(1):
            flags |= _REGEX_FLAGS[letter]
        for letter in leading.group(2):
            flags &= ~_REGEX_FLAGS[letter]
        pattern = pattern[leading.end() :]
    return regex.compile(pattern, flags)


def _pcre_escape(match: re.Match) -> str:
    if match.group(1):
        return match.group(0)  # an escaped backslash stays as written
    if match.group(2) is not None:
        code = int(match.group(2), 16)
        if code > 0x10FFFF:
            raise regex.error(f"character code {match.group(2)} is out of range")
        return regex.escape(chr(code))
    return regex.escape(match.group(3))


def _comparable(a: str, b: str) -> bool:
    numeric = (INT, REAL)
    return a == b or (a in numeric and b in numeric)


def _source(text: str, node: Any) -> str:
    if isinstance(node, Token):
        return str(node)
    if node.meta.empty:
        return ""
    return text[node.meta.start_pos : node.meta.end_pos]


def _safe_map(values: Values, fn: Callable[[Any], Any]) -> Values:
    def mapped(m: Any) -> list:
        out = []
        for v in values(m):
            try:
                out.append(fn(v))
            except ArithmeticError:
                continue
        return out

    return mapped


def _divide(a: Any, b: Any) -> Any:
    return a // b if isinstance(a, int) and isinstance(b, int) else a / b


#: Bytes of each of tshark's unsigned field types (FT_UINT8 .. FT_UINT64), as its len()
#: counts them, and the largest value each holds.
_FTYPE_WIDTH = {"uint8": 1, "uint16": 2, "uint24": 3, "uint32": 4, "uint64": 8}
_FTYPE_MAX = {ftype: (1 << 8 * width) - 1 for ftype, width in _FTYPE_WIDTH.items()}


def _ftype(field: FieldDef | None) -> str | None:
    """The type tshark gives ``field`` (its ProtoField), FT_UINT32 for a number of the analysis."""
    if field is None:
        return None
    if field.protocol is None:
        return "uint32" if field.kind == UINT else None
    return field.protocol.ftype


def _check_time_arithmetic(operand: Operand, token: str) -> None:
    """tshark's rule: a time span (FT_RELATIVE_TIME) takes ``+`` and ``-`` only, a date
    (FT_ABSOLUTE_TIME) no arithmetic at all."""
    field = operand.field
    if field is None or operand.sliced or operand.raw:
        return
    if field.kind == TIME or (field.kind == FLOAT and token not in "+-"):
        ftype = "FT_ABSOLUTE_TIME" if field.kind == TIME else "FT_RELATIVE_TIME"
        raise FilterError(f"{ftype} cannot {token}.", operand.column)


def _against_negative(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """``test`` of an unsigned value against a negative constant, as tshark answers it.

    tshark compares an unsigned value with a negative number as values of two
    types: only ``!=`` holds (``hdr.size > -1`` matches nothing).  A value that
    arithmetic took below zero is signed and compares as a number
    (``hdr.size - 17 <= -1`` holds for a size of 16).
    """
    differ = test is operator.ne

    def compared(value: Any, constant: Any) -> bool:
        return differ if value >= 0 else test(value, constant)

    return compared


def _overflowing(fn: Callable[[Any, Any], Any], ftype: str | None) -> Callable[[Any, Any], Any]:
    """``fn`` raising OverflowError where tshark's arithmetic overflows ``ftype``.

    tshark computes on an unsigned field in the integer its type is held in
    (32 bits up to FT_UINT32, 64 for FT_UINT64), going signed below zero, and
    a result that does not fit has no value: ``hdr.size * 0x10000000`` is no
    number for a size of 16.
    """
    if ftype not in _FTYPE_MAX:
        return fn
    bits = 64 if ftype == "uint64" else 32
    high, low = (1 << bits) - 1, -(1 << (bits - 1))

    def checked(a: Any, b: Any) -> Any:
        result = fn(a, b)
        if isinstance(result, int) and not low <= result <= high:
            raise OverflowError(result)
        return result

    return checked


_ARITH = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": operator.mod,
    "&": operator.and_,
}


def _from_code(code: int, against: Operand) -> Any:
    """A character constant (``'a'``, ``'\\x07'``) as a number, a byte or a one-letter string."""
    if against.type == RAW:
        return bytes([code]) if code < 256 else chr(code).encode()
    if against.type == TEXT:
        return chr(code)
    return code


_REFERENCE_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]|\.(?!\.))*")


def _first_layer_chosen(token: str, column: int) -> bool:
    """Whether ``#N`` or ``#[ranges]`` (layers counted from 1) takes in the one layer there is."""
    body = token[1:]
    if body.startswith("["):
        ranges = _slice_ranges(body[1:-1], column + 2) if body.endswith("]") else None
        if ranges is None:
            raise FilterError(f'"{token}" is not a valid layer range.', column)
    else:
        if not body:
            raise FilterError('Expected digit or "[" after "#".', column + 1)
        if not body.isdigit():
            raise FilterError(f'Expected digit or "[", not "{body[0]}".', column + 1)
        if int(body) > _MAX_LAYER:
            raise FilterError(f'"{body}" causes an integer overflow.', column + 1)
        ranges = [(int(body), 1, "length")]
    for first, second, form in ranges:
        start = (first or 0) + 2 if (first or 0) < 0 else (first or 0)
        if second is None:
            end = max(start, 1)
        elif form == "end":
            end = second + 2 if second < 0 else second
        else:
            end = start + second - 1
        if start <= 1 <= end:
            return True
    return False


_MAX_LAYER = 2**31 - 1


# --- slices ---------------------------------------------------------------------------

_RANGE = re.compile(r"\s*(-?\d+)?\s*(?:(:)\s*(\d+)?|-\s*(-?\d+))?\s*")


def _slice_ranges(body: str, column: int) -> list[tuple[int | None, int | None, str]]:
    """``i:j`` (offset, length), ``i-j`` (inclusive end), ``i``, ``:j``, ``i:``, comma-separated."""
    out: list[tuple[int | None, int | None, str]] = []
    for part in body.split(","):
        match = _RANGE.fullmatch(part)
        if not match or not part.strip():
            raise FilterError(f'"{body}" is not a valid slice.', column)
        start, colon, length, end = match.groups()
        first = int(start) if start is not None else 0
        spec = part.strip()
        if colon and length is not None and int(length) <= 0:
            raise FilterError(
                f"Range {spec} isn't valid because length {length} isn't positive", column
            )
        if end is not None and (first < 0) != (int(end) < 0):
            raise FilterError(
                f"Range {spec} isn't valid because {first} and {end} have different signs",
                column,
            )
        if end is not None and first >= int(end):
            raise FilterError(
                f"Range {spec} isn't valid because {first} is greater or equal than {end}",
                column,
            )
        if colon:
            out.append((first, int(length) if length is not None else None, "length"))
        elif end is not None:
            out.append((first, int(end), "end"))
        elif start is not None:
            out.append((first, 1, "length"))
        else:
            raise FilterError(f'"{body}" is not a valid slice.', column)
    return out


def _cut(value: Any, ranges: Any) -> Any:
    """The bytes (or characters) the ranges select; None when one falls outside."""
    pieces = []
    size = len(value)
    for first, second, form in ranges:
        start = first + size if first < 0 else first
        if not 0 <= start < size:
            return None
        if form == "end":
            stop = (second + size if second < 0 else second) + 1
        elif second is None:
            stop = size
        else:
            stop = start + second
        if stop > size or stop < start:
            return None
        pieces.append(value[start:stop])
    return pieces[0] if len(pieces) == 1 else value[:0].join(pieces)


# --- functions --------------------------------------------------------------------------


def _fn_len(compiler: _Compiler, args: list[Operand], column: int, text: str) -> Operand:
    """tshark's ``len()``: the bytes of a string (UTF-8) or byte field, else the type's width.

    A number's length is the width of the type it is declared with (the
    ProtoField's: ``page_cnt`` is a 24-bit part of a 64-bit unit, so 8), not
    the bits its value uses; a boolean, a time and a label (a structure) have
    none, so tshark answers 0 for them.
    """
    (arg,) = args
    _only_fields(arg, "len")
    values = arg.get
    if values is _nothing:
        return Operand(INT, _nothing, column, text)
    if arg.type in (TEXT, RAW):
        return Operand(INT, lambda m: [_byte_length(v) for v in values(m)], column, text)
    if arg.type == LABEL:
        return Operand(INT, lambda m: [0 for _ in values(m)], column, text)
    width = _type_width(arg.field)
    return Operand(INT, lambda m: [width for _ in values(m)], column, text)


def _byte_length(value: Any) -> int:
    """Bytes of a value as tshark stores it: a string in UTF-8 ("é" is 2).

    A character that is no UTF-8 (a byte a file name held, escaped) was one byte.
    """
    if isinstance(value, str):
        return len(value.encode("utf-8", "replace"))
    return len(value)


def _type_width(field: FieldDef | None) -> int:
    """The width len() answers for a number of ``field``: its type's, one per name.

    A name has one type in every message (``reservedz`` is 31 bits in one
    message and 63 in another, an FT_UINT64 in both), as in the plugin.
    """
    if field is None or field.protocol is None:
        # A number only the analysis knows (frame.number, frame.len, a transaction's
        # number or frame) is an FT_UINT32 or FT_FRAMENUM in tshark: 4 bytes.
        return _FTYPE_WIDTH["uint32"] if field is not None and field.kind == UINT else 0
    return _FTYPE_WIDTH.get(field.protocol.ftype, 0)


def _only_fields(arg: Operand, name: str) -> None:
    """tshark's rule: some functions take a field (or slice of one), not a reference."""
    if arg.reference or arg.field is None:
        raise FilterError(f"Only fields can be used as parameter for {name}()", arg.column)


def _fn_count(compiler: _Compiler, args: list[Operand], column: int, text: str) -> Operand:
    (arg,) = args
    _only_fields(arg, "count")
    values = arg.get

    def counted(m: Any) -> list:
        # As in tshark, the count of an absent field is no value (not 0).
        found = len(values(m))
        return [found] if found else []

    return Operand(INT, counted, column, text)


def _fn_case(method: str) -> Callable[..., Operand]:
    def build(compiler: _Compiler, args: list[Operand], column: int, text: str) -> Operand:
        (arg,) = args
        if arg.type != TEXT:
            raise FilterError(f"{arg.text} (type={_type_text(arg)}) is not a string.", arg.column)
        values = arg.get
        return Operand(TEXT, lambda m: [getattr(v, method)() for v in values(m)], column, text)

    return build


def _fn_string(compiler: _Compiler, args: list[Operand], column: int, text: str) -> Operand:
    (arg,) = args
    if arg.sliced:
        raise FilterError("Only fields can be used as parameter for string()", arg.column)
    values = arg.get

    def as_text(v: Any) -> str:
        return v.hex(":") if isinstance(v, bytes) else str(v)

    return Operand(TEXT, lambda m: [as_text(v) for v in values(m)], column, text)


def _fn_abs(compiler: _Compiler, args: list[Operand], column: int, text: str) -> Operand:
    (arg,) = args
    return compiler._numeric(arg, "abs", abs, column, text)


def _fn_extreme(pick: Callable[[list], Any]) -> Callable[..., Operand]:
    def build(compiler: _Compiler, args: list[Operand], column: int, text: str) -> Operand:
        for arg in args:
            if arg.type not in (INT, REAL):
                raise FilterError(f"{arg.text} is not a number.", arg.column)
        getters = [arg.get for arg in args]
        kind = REAL if any(arg.type == REAL for arg in args) else INT

        def extreme(m: Any) -> list:
            found = [v for get in getters for v in get(m)]
            return [pick(found)] if found else []

        return Operand(kind, extreme, column, text)

    return build


def _arity(low: int, high: int) -> str:
    if low == high:
        return plural(low, "argument")
    return f"at least {plural(low, 'argument')}"


_FUNCTIONS = {
    "len": (1, 1, _fn_len),
    "count": (1, 1, _fn_count),
    "upper": (1, 1, _fn_case("upper")),
    "lower": (1, 1, _fn_case("lower")),
    "string": (1, 1, _fn_string),
    "abs": (1, 1, _fn_abs),
    "min": (1, 64, _fn_extreme(min)),
    "max": (1, 64, _fn_extreme(max)),
}
