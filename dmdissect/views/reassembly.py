"""The reassembled transaction that ``read -V`` shows under its final message."""

from __future__ import annotations

from dmdissect.analysis.records import MULTIPART, Transaction
from dmdissect.layers import mib, plural
from dmdissect.views.expert import SEVERITY_STYLES
from dmdissect.views.outline import Branch
from dmdissect.views.records import (
    frames_text,
    ids_text,
    outcome_word,
    seconds_text,
    transaction_summary,
)

#: Ranges of one part shown in the reassembled tree of ``read -V``; the rest are counted.
PART_RANGE_LIMIT = 256


def transaction_tree(txn: Transaction) -> Branch:
    """Every part and range of a transaction with its totals, under its final message.

    A part shows at most :data:`PART_RANGE_LIMIT` ranges and counts the rest.
    """
    tree = Branch((f"Reassembled {txn.name}: {transaction_summary(txn)}", "bold magenta"))
    tree.add(f"frames: {frames_text(txn.frames, txn.frame_count)}")
    tree.add("links: " + ", ".join(f"frame {f} {r}" for f, r in zip(txn.frames, txn.rules)))
    tree.add(f"trans_ids: {ids_text(txn.ids, txn.unknown)}")
    if txn.kind in MULTIPART:
        for index, part in enumerate(txn.parts, 1):
            tail = "more follow" if part.more else "last part"
            pages = (
                "? pages (not in this log)"
                if part.pages is None
                else f"{part.pages} pages ({mib(part.pages)})"
            )
            ranges = "? ranges" if part.range_count is None else plural(part.range_count, "range")
            branch = tree.add(
                f"part {index}: frame {part.frame}, trans_id {part.trans_id}, {ranges}, {pages}, "
                f"{tail}"
            )
            word = "run returned (QEMU's log)" if part.logged else "range"
            shown = part.ranges[:PART_RANGE_LIMIT]
            for number, (start, count) in enumerate(shown):
                branch.add(
                    f"{word} {number}: start_page {start:#x}, page_cnt {count} ({mib(count)})"
                )
            if len(part.ranges) > len(shown):
                more = plural(len(part.ranges) - len(shown), "more range")
                branch.add(f"... {more} (every one in -T json)")
            if not part.logged and part.range_count and len(part.ranges) < part.range_count:
                branch.add(f"{plural(part.range_count - len(part.ranges), 'more range')} not kept")
    tree.add(_totals(txn))
    if txn.truncated:
        tree.add("truncated: only the first frames, parts and ranges are kept; totals count all")
    if not txn.complete:
        tree.add((f"incomplete: {txn.reason}", "yellow"))
    findings = txn.findings()
    if findings:
        expert = tree.add(("Transaction expert info", "bold"))
        for finding in findings:
            expert.add(
                (f"[{finding.severity.value}] {finding.message}", SEVERITY_STYLES[finding.severity])
            )
    return tree


def _totals(txn: Transaction) -> str:
    if txn.kind in MULTIPART:
        counts = [plural(txn.part_count, "part"), plural(txn.range_count, "range")]
    else:
        counts = [plural(txn.frame_count, "message")]
    if txn.pages is not None:
        least = "at least " if txn.pages_lower_bound else ""
        counts.append(f"{least}{txn.pages} pages ({mib(txn.pages)}) moved")
    if txn.pages_requested is not None:
        counts.append(f"{txn.pages_requested} pages ({mib(txn.pages_requested)}) asked")
    times = f"duration {seconds_text(txn.duration)} s"
    if txn.latency is not None:
        times += f", latency {seconds_text(txn.latency)} s"
    return f"totals: {', '.join(counts)}; outcome {outcome_word(txn.outcome)}; {times}"
