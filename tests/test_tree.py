"""The ``read -V`` tree: the plain writer against rich's own renderer, the fast path
against Scapy's, and long range lists shortened in the tree but whole in JSON.

rich's Tree renderer is the oracle for the plain text a pipe gets: the same
tree rendered by rich without styles must give exactly the same lines.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from dmdissect.analysis.dissect import dissect
from dmdissect.layers import MESSAGE_LAYERS
from dmdissect.layers.compiled import compile_layer
from dmdissect.pipeline import messages_of
from dmdissect.sources import open_frames
from dmdissect.sources.frame import Frame
from dmdissect.views.jsonout import message_object
from dmdissect.views.outline import Branch, plain_lines, to_rich
from dmdissect.views.tree import LIST_LIMIT, message_tree
from dmdissect.vocabulary import DirectionSource

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
COMPILED = sorted(t for t, layer in MESSAGE_LAYERS.items() if compile_layer(layer) is not None)


def rich_lines(root: Branch, encoding: str = "utf-8") -> list[str]:
    """What rich prints for the tree in a pipe: no colour, no wrapping."""
    sink = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    console = Console(file=sink, no_color=True, color_system=None, width=1 << 16, soft_wrap=True)
    console.print(to_rich(root))
    sink.flush()
    sink.seek(0)
    return sink.read().splitlines()


def test_plain_lines_are_what_rich_draws_on_every_sample_capture():
    for path in sorted(CAPTURES.glob("*.pcapng")) + sorted(CAPTURES.glob("*.log")):
        first = None
        for message in messages_of(open_frames(str(path))):
            first = message.frame.time if first is None else first
            tree = message_tree(message, first)
            assert plain_lines(tree) == rich_lines(tree), (path.name, message.frame.index)


def test_plain_lines_follow_rich_on_tabs_newlines_and_ascii_output():
    root = Branch(("Frame\t1", "bold", ": x", ""))
    a = root.add("a\tb")
    a.add(("two\nlines", "red"))
    a.add("c")
    root.add("last\nof all").add("under\tit")
    assert plain_lines(root) == rich_lines(root)
    assert plain_lines(root, ascii_only=True) == rich_lines(root, "ascii")
    assert plain_lines(root)[2] == "│   ├── two"


@st.composite
def messages(draw):
    """A header of a compiled type, a size that may lie, and a body of any length."""
    msg_type = draw(st.sampled_from(COMPILED))
    body = draw(st.binary(max_size=120))
    if msg_type in (7, 8) and draw(st.booleans()):
        count = draw(st.integers(0, 12))
        word = count << 1 | draw(st.integers(0, 1)) if msg_type == 7 else count
        body = struct.pack("<II", draw(st.integers(0, 1)) if msg_type == 8 else 0, word) + body
    size = draw(st.one_of(st.just(8 + len(body)), st.integers(0, 0xFFFF)))
    return struct.pack("<HHI", msg_type, size, draw(st.integers(0, 2**32 - 1))) + body


@settings(max_examples=300, deadline=None)
@given(messages(), st.sampled_from([None, "guest->host", "host->guest"]))
def test_the_fast_path_tree_equals_the_scapy_tree(data, direction):
    source = DirectionSource.CAPTURE if direction else "unknown"
    frame = Frame(1, data, time=5.0, direction=direction, direction_source=source)
    fast, slow = dissect(frame, fast=True), dissect(frame, fast=False)
    assert plain_lines(message_tree(fast, 5.0)) == plain_lines(message_tree(slow, 5.0))


def test_a_part_of_8189_ranges_is_shortened_in_the_tree_and_whole_in_json():
    count = 8189
    ranges = b"".join(struct.pack("<Q", (0x100000 + 512 * i) | 512 << 40) for i in range(count))
    body = struct.pack("<II", 0, count << 1) + ranges
    data = struct.pack("<HHI", 7, (8 + len(body)) & 0xFFFF, 3) + body
    message = dissect(Frame(1, data, time=1.0))
    lines = plain_lines(message_tree(message, 1.0))
    shown = [line for line in lines if "range_array[" in line]
    assert len(shown) == LIST_LIMIT
    assert shown[-1].lstrip("│├└─ ").startswith(f"range_array[{LIST_LIMIT - 1}]: start_page ")
    more = f"... {count - LIST_LIMIT} more ranges (every one in -T json)"
    assert [line.lstrip("│├└─ ") for line in lines if "more ranges" in line] == [more]
    assert len(lines) < 4 * LIST_LIMIT
    exported = message_object(message)["range_array"]
    assert len(exported) == count
    assert exported[-1] == {"start_page": 0x100000 + 512 * (count - 1), "page_cnt": 512}
