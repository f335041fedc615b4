"""A tree of labelled lines: written straight as text in pipes, or as a rich ``Tree`` on a terminal.

``read -V`` prints a tree for every message.  rich's Tree renderer measures,
styles and wraps every segment of every label (milliseconds a message), which
a pipe never needs: there the tree is plain text with known indentation, so
:func:`plain_lines` writes it directly with the very guides rich draws
(``├── ``, ``│   ``, ``└── ``; ``+-- ``, ``|   ``, ``\\`-- `` when the output
encoding is not UTF-8).  Only a terminal, which shows styles and has a width
to fold at, gets the rich tree (:func:`to_rich`).

A label is a string or a flat tuple of segments ``(text, style, text, style,
...)``; styles are rich style names ("" for none), ignored in plain text.
"""

from __future__ import annotations

from typing import Any, TextIO

Label = str | tuple[str, ...]

#: rich's guides: (space, continue, fork, end), in Unicode and in ASCII.
UNICODE_GUIDES = ("    ", "│   ", "├── ", "└── ")
ASCII_GUIDES = ("    ", "|   ", "+-- ", "`-- ")
#: Tabs in a label become spaces, as rich expands them.
TAB_SIZE = 8


class Branch:
    """One line of the tree and the branches under it."""

    __slots__ = ("label", "children")

    def __init__(self, label: Label) -> None:
        self.label = label
        self.children: list[Branch] = []

    def add(self, label: Label) -> Branch:
        child = Branch(label)
        self.children.append(child)
        return child


class LazyBranch(Branch):
    """A branch whose children are made only when a view asks for them.

    A subclass makes them (:meth:`make`), and may write their plain lines
    itself (:meth:`write_plain`), so that a pipe never builds the branches.
    """

    __slots__ = ("_made",)

    def __init__(self, label: Label) -> None:
        self.label = label
        self._made: list[Branch] | None = None

    @property
    def children(self) -> list[Branch]:  # type: ignore[override]  # made on first use
        if self._made is None:
            self._made = self.make()
        return self._made

    def make(self) -> list[Branch]:
        raise NotImplementedError

    def write_plain(self, lines: list[str], prefix: str, guides: tuple[str, ...]) -> bool:
        """Append the children's plain lines under ``prefix``; False to have them drawn."""
        return False


def label_text(label: Label) -> str:
    text = label if isinstance(label, str) else "".join(label[::2])
    return text.expandtabs(TAB_SIZE) if "\t" in text else text


def plain_lines(root: Branch, ascii_only: bool = False) -> list[str]:
    """Every line of the tree with its guides, as rich prints it without styles."""
    lines: list[str] = []
    _label_lines(lines, label_text(root.label), "", "")
    child_lines(lines, root.children, "", ASCII_GUIDES if ascii_only else UNICODE_GUIDES)
    # A branch that writes its own lines may append several in one string.
    return "\n".join(lines).split("\n")


def child_lines(lines: list[str], children: list[Branch], prefix: str, guides: tuple) -> None:
    """The lines of ``children`` and everything under them, each line after ``prefix``
    (an entry may hold several lines, joined by newlines)."""
    space, cont, fork, end = guides
    last = len(children) - 1
    for index, node in enumerate(children):
        label = node.label
        text = label if isinstance(label, str) else "".join(label[::2])
        guide, under = (end, space) if index == last else (fork, cont)
        if "\t" in text or "\n" in text:
            _label_lines(lines, text.expandtabs(TAB_SIZE), prefix + guide, prefix + under)
        else:
            lines.append(prefix + guide + text)
        if isinstance(node, LazyBranch) and node.write_plain(lines, prefix + under, guides):
            continue
        if node.children:
            child_lines(lines, node.children, prefix + under, guides)


def _label_lines(lines: list[str], text: str, first: str, rest: str) -> None:
    """A label's lines: the guide on the first, the continuation guide on the others."""
    parts = text.split("\n")
    lines.append(first + parts[0])
    lines.extend(rest + part for part in parts[1:])


def write_plain(root: Branch, stream: TextIO) -> None:
    """The tree into ``stream`` as plain lines, one write per tree."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
    stream.write("\n".join(plain_lines(root, not encoding.startswith("utf"))) + "\n")


def to_rich(root: Branch) -> Any:
    """The same tree as a rich ``Tree``, styled, for a terminal."""
    from rich.text import Text
    from rich.tree import Tree

    def text(label: Label) -> Text:
        if isinstance(label, str):
            return Text(label)
        out = Text()
        for part, style in zip(label[::2], label[1::2]):
            out.append(part, style=style or None)
        return out

    tree = Tree(text(root.label))
    stack = [(tree, root)]
    while stack:
        into, node = stack.pop()
        for child in node.children:
            branch = into.add(text(child.label))
            if child.children:
                stack.append((branch, child))
    return tree
