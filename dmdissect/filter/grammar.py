"""Wireshark's display-filter syntax as a lark grammar, and the parser built from it.

The grammar follows Wireshark 4's ``wireshark-filter(4)``: logical ``and``
``&&`` ``or`` ``||`` ``not`` ``!`` and parentheses; relations ``==`` ``!=``
``===`` ``!==`` ``~=`` ``<`` ``<=`` ``>`` ``>=`` and their word forms
(``eq``, ``any_eq``, ``ne``, ``all_ne``, ``all_eq``, ``any_ne``, ``gt``,
``ge``, ``lt``, ``le``); ``contains``, ``matches``/``~``, ``in {...}`` and
``not in {...}`` with ranges ``a..b``; the quantifiers ``any``/``all``;
slices ``field[i:j]``, ``[i-j]``, ``[i]``, ``[:j]``, ``[i:]``; the layer
operator ``field#N`` / ``field#[ranges]``; ``@field`` (the field's bytes);
field references ``${field}`` and ``$field``; functions ``len``, ``count``,
``upper``, ``lower``, ``string``, ``min``, ``max``, ``abs``; arithmetic
``+ - * / % &``, unary minus and plus (on a value, not on a ``{...}`` group: tshark
4.0's rule) and ``{...}`` for grouping; ``contains`` and ``matches`` take values
without arithmetic; strings ``"..."``
and ``r"..."``, character constants ``'a'``.  Sets may hold fields.

Like Wireshark, a value that is not quoted is one *word* (``hdr.type``,
``7``, ``0x1f``, ``07:00``, ``DM_BALLOON_RESPONSE``): whether it names a
field or a literal, and what the literal means, is decided when the filter
is compiled, from the field it is compared with.  Sets are accepted with
commas (Wireshark 4) or whitespace (the older form) between elements.
"""

from __future__ import annotations

from functools import cache

from lark import Lark

GRAMMAR = r"""
?start: expr

?expr: and_expr
     | expr (OR | OR_W) and_expr          -> or_

?and_expr: not_expr
     | and_expr (AND | AND_W) not_expr    -> and_

?not_expr: atom
     | (NOT | NOT_W) not_expr             -> not_

?atom: "(" expr ")"
     | test

test: value                               -> presence
    | quant? value cmp value              -> compare
    | quant? value IN set                 -> member
    | quant? value NOT_W IN set           -> not_member
    | quant? entity CONTAINS entity       -> contains
    | quant? entity (MATCHES | MATCHES_W) entity -> matches

quant: ANY | ALL

cmp: EQ | EQ_W | ANY_EQ | NE | NE_W | ALL_NE | ALL_EQ | ALL_EQ_W | ANY_NE | ANY_NE_OLD
   | ANY_NE_W | LT | LT_W | LE | LE_W | GT | GT_W | GE | GE_W

set: LBRACE item (COMMA? item)* "}"
item: member
    | member RANGE member                 -> span
?member: WORD                             -> word
       | STRING                           -> string
       | CHAR                             -> char
       | MINUS WORD                       -> negative
       | PLUS WORD                        -> positive
       | field

?value: sum
?sum: product
    | sum (PLUS | MINUS) product          -> arith
?product: unary
    | product (TIMES | DIVIDE | MODULO | BITAND) unary -> arith
?unary: primary
    | MINUS entity                        -> neg
    | PLUS entity                         -> pos
?primary: entity
    | LBRACE value "}"                    -> group
?entity: WORD SLICE?                      -> operand
    | field
    | STRING                              -> string
    | CHAR                                -> char
    | WORD "(" [value ("," value)*] ")"   -> function

field: WORD LAYER SLICE?                  -> operand
     | RAW WORD LAYER? SLICE?             -> operand
     | REFERENCE                          -> reference

OR: "||"
OR_W: "or"
AND: "&&"
AND_W: "and"
NOT: "!"
NOT_W: "not"
ANY: "any"
ALL: "all"
IN: "in"
CONTAINS: "contains"
MATCHES: "~"
MATCHES_W: "matches"
EQ: "=="
EQ_W: "eq"
ANY_EQ: "any_eq"
NE: "!="
NE_W: "ne"
ALL_NE: "all_ne"
ALL_EQ: "==="
ALL_EQ_W: "all_eq"
ANY_NE: "!=="
ANY_NE_OLD: "~="
ANY_NE_W: "any_ne"
LT: "<"
LT_W: "lt"
LE: "<="
LE_W: "le"
GT: ">"
GT_W: "gt"
GE: ">="
GE_W: "ge"
LBRACE: "{"
COMMA: ","
RANGE: ".."
PLUS: "+"
MINUS: "-"
TIMES: "*"
DIVIDE: "/"
MODULO: "%"
BITAND: "&"
SLICE: /\[[^\]]*\]/
LAYER: /#(\[[^\]]*\]|[^\s\[]?[0-9]*)/
RAW: "@"
REFERENCE: /\$(\{[^}]*\}?|[A-Za-z0-9_](?:[A-Za-z0-9_\-]|\.(?!\.))*(#\[[^\]]*\]|#[0-9]+)?)/
CHAR.2: /'(?:[^'\\]|\\.)(?:[^'\\]|\\.)*'/
STRING.2: /r?"(?:[^"\\]|\\.)*"/
WORD: /[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})+|[A-Za-z0-9_](?:[A-Za-z0-9_\-]|\.(?!\.))*/

%ignore /[ \t\r\n]+/
"""


@cache
def parser() -> Lark:
    """The LALR parser, built once per process (some 50 ms of CPU, only when -Y is given)."""
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)
