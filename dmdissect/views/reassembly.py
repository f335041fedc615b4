"""The reassembled transaction that ``read -V`` shows under its final message."""

from __future__ import annotations

from dmdissect.analysis.records import MULTIPART, Part, Transaction
from dmdissect.views.english import plural
from dmdissect.views.expert import SEVERITY_STYLES
from dmdissect.views.fieldtext import cached_mib
from dmdissect.views.outline import Branch, Label, LazyBranch
from dmdissect.views.phrases import mib
from dmdissect.views.records import (
    frames_text,
    ids_text,
    outcome_word,
    seconds_text,
    transaction_summary,
)

#: Ranges of one part shown in the reassembled tree of ``read -V``; the rest are counted.
PART_RANGE_LIMIT = 256

#: One line under the title: its label, and a part (whose ranges hang under it) or
#: the lines of an expert block.
_Entry = tuple[Label, "Part | list[Label] | None"]


def _title(txn: Transaction) -> Label:
    return (f"Reassembled {txn.name}: {transaction_summary(txn)}", "bold magenta")


def _entries(txn: Transaction) -> list[_Entry]:
    """The lines under the title, in order: what both the tree and the plain lines show."""
    entries: list[_Entry] = [
        (f"frames: {frames_text(txn.frames, txn.frame_count)}", None),
        ("links: " + ", ".join(f"frame {f} {r}" for f, r in zip(txn.frames, txn.rules)), None),
        (f"trans_ids: {ids_text(txn.ids, txn.unknown)}", None),
    ]
    if txn.kind in MULTIPART:
        for index, part in enumerate(txn.parts, 1):
            tail = "more follow" if part.more else "last part"
            pages = (
                "? pages (not in this log)"
                if part.pages is None
                else f"{plural(part.pages, 'page')} ({mib(part.pages)})"
            )
            ranges = "? ranges" if part.range_count is None else plural(part.range_count, "range")
            label = (
                f"part {index}: frame {part.frame}, trans_id {part.trans_id}, {ranges}, {pages}, "
                f"{tail}"
            )
            entries.append((label, part))
    entries.append((_totals(txn), None))
    if txn.truncated:
        entries.append(
            ("truncated: only the first frames, parts and ranges are kept; totals count all", None)
        )
    if not txn.complete:
        entries.append(((f"incomplete: {txn.reason}", "yellow"), None))
    findings = txn.findings()
    if findings:
        found: list[Label] = [
            (f"[{finding.severity.value}] {finding.message}", SEVERITY_STYLES[finding.severity])
            for finding in findings
        ]
        entries.append((("Transaction expert info", "bold"), found))
    return entries


def transaction_tree(txn: Transaction) -> Branch:
    """Every part and range of a transaction with its totals, under its final message.

    A part shows at most :data:`PART_RANGE_LIMIT` ranges and counts the rest.
    """
    tree = Branch(_title(txn))
    for label, under in _entries(txn):
        if isinstance(under, Part):
            tree.children.append(_Ranges(label, under))
        else:
            branch = tree.add(label)
            for text in under or ():
                branch.add(text)
    return tree


def _text(label: Label) -> str:
    return label if isinstance(label, str) else label[0]


def transaction_lines(
    txn: Transaction, lines: list[str], first: str, rest: str, guides: tuple[str, ...]
) -> bool:
    """Append the plain lines of :func:`transaction_tree` as one entry: its title after
    ``first``, the lines under it after ``rest``.  False (and nothing appended)
    when a text holds a tab or a newline, which the tree's writer lays out."""
    space, cont, fork, end = guides
    out = [first + _text(_title(txn))]
    entries = _entries(txn)
    last = len(entries) - 1
    for index, (label, under) in enumerate(entries):
        guide, deeper = (end, rest + space) if index == last else (fork, rest + cont)
        out.append(rest + guide + _text(label))
        if isinstance(under, Part):
            texts = _range_lines(under)
        else:
            texts = [_text(text) for text in under or ()]
        if texts:
            out.extend([deeper + fork + text for text in texts[:-1]])
            out.append(deeper + end + texts[-1])
    block = "\n".join(out)
    if "\t" in block or block.count("\n") != len(out) - 1:
        return False
    lines.append(block)
    return True


class _Ranges(LazyBranch):
    """A part's ranges: lines written straight in a pipe, branches where rich draws them."""

    __slots__ = ("part",)

    def __init__(self, label: Label, part: Part) -> None:
        super().__init__(label)
        self.part = part

    def make(self) -> list[Branch]:
        return [Branch(text) for text in _range_lines(self.part)]

    def write_plain(self, lines: list[str], prefix: str, guides: tuple[str, ...]) -> bool:
        _, _, fork, end = guides
        texts = _range_lines(self.part)
        last = len(texts) - 1
        lines.extend(f"{prefix}{end if i == last else fork}{text}" for i, text in enumerate(texts))
        return True


def _range_lines(part: Part) -> list[str]:
    """A part's ranges, at most :data:`PART_RANGE_LIMIT`, and what was left out."""
    word = "run returned (QEMU's log)" if part.logged else "range"
    shown = part.ranges[:PART_RANGE_LIMIT]
    texts = [
        f"{word} {number}: start_page {start:#x}, page_cnt {count} ({cached_mib(count)})"
        for number, (start, count) in enumerate(shown)
    ]
    if len(part.ranges) > len(shown):
        more = plural(len(part.ranges) - len(shown), "more range")
        texts.append(f"... {more} (every one in -T json)")
    if not part.logged and part.range_count and len(part.ranges) < part.range_count:
        texts.append(f"{plural(part.range_count - len(part.ranges), 'more range')} not kept")
    return texts


def _totals(txn: Transaction) -> str:
    if txn.kind in MULTIPART:
        counts = [plural(txn.part_count, "part"), plural(txn.range_count, "range")]
    else:
        counts = [plural(txn.frame_count, "message")]
    if txn.pages is not None:
        least = "at least " if txn.pages_lower_bound else ""
        counts.append(f"{least}{plural(txn.pages, 'page')} ({mib(txn.pages)}) moved")
    if txn.pages_requested is not None:
        asked = txn.pages_requested
        counts.append(f"{plural(asked, 'page')} ({mib(asked)}) asked")
    times = f"duration {seconds_text(txn.duration)} s"
    if txn.latency is not None:
        times += f", latency {seconds_text(txn.latency)} s"
    return f"totals: {', '.join(counts)}; outcome {outcome_word(txn.outcome)}; {times}"
