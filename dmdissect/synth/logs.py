"""A generated session written as the logs its peers would print: QEMU trace, QMP, dmesg, ftrace.

Each writer walks the session's messages in order and prints, at each
message's time, the lines QEMU's hv-balloon device (trace events, log
backend with ``-msg timestamp=on``), its QMP monitor (rate-limited
``HV_BALLOON_STATUS_REPORT`` events, CRLF line ends) or the Linux guest's
driver (dmesg lines, the ``balloon_status`` tracepoint) prints for it, in
the formats :mod:`dmdissect.sources.logs` reads.  The readers' own tests use
hand-written lines; these writers give every reader a round trip against
the byte-level session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dmdissect.analysis.dissect import dissect
from dmdissect.analysis.intervals import coalesce
from dmdissect.layers import MESSAGE_TYPES, DMCaps
from dmdissect.layers.layout import layout_of
from dmdissect.layers.numbers import PAGE_SIZE

LOG_FORMATS = ("qemu-trace", "qmp", "dmesg", "ftrace")
#: The main-loop thread id QEMU's trace prefix shows, and the guest's hv_balloon kthread.
QEMU_TID = 4242
GUEST_PID = 312
#: QMP's rate limit of HV_BALLOON_STATUS_REPORT (monitor.c), in seconds.
QMP_THROTTLE = 1.0


def _messages(session: Any) -> Iterator[Any]:
    for frame in session.frames:
        message = dissect(frame)
        if message.body is not None and not message.findings:
            yield message


def _caps_word(caps: Any) -> int:
    word = 0
    for spot in layout_of(DMCaps).spots:
        if spot.bit is not None and spot.bits is not None and spot.bit + spot.bits <= 32:
            word |= (getattr(caps, spot.name) or 0) << spot.bit
    return word


# --- QEMU trace -------------------------------------------------------------------------


def qemu_trace_lines(session: Any) -> Iterator[str]:
    """The ``hv_balloon_*`` trace events QEMU prints for the session (TID@SEC.USEC: prefix)."""
    stamp = "0"

    def line(event: str, text: str) -> str:
        return f"{QEMU_TID}@{stamp}:hv_balloon_{event} {text}"

    def state(name: str) -> str:
        return line("state_change", f"-> {name}")

    first = True
    memslots = False
    unballooning = False
    owed = 0
    messages = list(_messages(session))
    for index, message in enumerate(messages):
        micros = round(message.frame.time * 1_000_000)
        stamp = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
        body = message.body
        kind = MESSAGE_TYPES[message.type]
        if first:
            yield state("S_POST_RESET_CLOSED")
            yield state("S_VERSION")
            first = False
        if kind == "DM_VERSION_REQUEST":
            version = body.version
            yield line(
                "incoming_version",
                f"incoming proto version {version.major_version}.{version.minor_version}",
            )
        elif kind == "DM_VERSION_RESPONSE" and body.is_accepted:
            yield state("S_CAPS")
        elif kind == "DM_CAPABILITIES_REPORT":
            yield line("incoming_caps", f"incoming caps {_caps_word(body.caps):#x}")
        elif kind == "DM_CAPABILITIES_RESPONSE":
            yield state("S_POST_INIT_WAIT")
        elif kind == "DM_BALLOON_REQUEST":
            yield state("S_BALLOON_RB_WAIT")
            yield state("S_BALLOON_POSTING")
            yield line(
                "outgoing_balloon",
                f"posting balloon {message.trans_id} for {body.num_pages}, "
                f"remaining {body.num_pages}",
            )
            yield state("S_BALLOON_REPLY_WAIT")
        elif kind == "DM_BALLOON_RESPONSE":
            yield line(
                "incoming_balloon",
                f"incoming balloon response {message.trans_id}, ranges {body.range_count}, "
                f"more {body.more_pages}",
            )
            runs, _ = coalesce([(r.start_page, r.page_cnt) for r in body.range_array])
            for start, end in runs:
                yield line(
                    "remove_response",
                    f"processing remove response range {end - start} @ {start:#x}, both 0",
                )
                yield line(
                    "remove_response_remainder",
                    f"remove response remaining range {end - start} @ {start:#x}, both 0",
                )
            if not body.more_pages:
                yield state("S_IDLE")
        elif kind == "DM_UNBALLOON_REQUEST":
            if not unballooning:
                unballooning = True
                owed = _unballoon_owed(messages, index)
                yield state("S_UNBALLOON_RB_WAIT")
                yield state("S_UNBALLOON_POSTING")
            for page_range in body.range_array:
                owed -= page_range.page_cnt
                yield line(
                    "outgoing_unballoon",
                    f"posting unballoon {message.trans_id} for {page_range.page_cnt} @ "
                    f"{page_range.start_page:#x}, remaining {owed}",
                )
            if not body.more_pages:
                unballooning = False
                yield state("S_UNBALLOON_REPLY_WAIT")
        elif kind == "DM_UNBALLOON_RESPONSE":
            yield line("incoming_unballoon", f"incoming unballoon response {message.trans_id}")
            yield state("S_IDLE")
        elif kind == "DM_MEM_HOT_ADD_REQUEST":
            yield state("S_HOT_ADD_SETUP")
            if not memslots and body.region is not None:
                memslots = True
                region = body.region
                yield line(
                    "our_range_add", f"adding our range {region.page_cnt} @ {region.start_page:#x}"
                )
                yield line(
                    "map_slot", f"mapping memslot 0 / 1 @ 0x{region.start_page * PAGE_SIZE:x}"
                )
            yield state("S_HOT_ADD_RB_WAIT")
            yield state("S_HOT_ADD_POSTING")
            yield line(
                "outgoing_hot_add",
                f"posting hot add {message.trans_id} for {body.range.page_cnt} @ "
                f"{body.range.start_page:#x}",
            )
            yield state("S_HOT_ADD_REPLY_WAIT")
        elif kind == "DM_MEM_HOT_ADD_RESPONSE":
            yield line(
                "incoming_hot_add",
                f"incoming hot add response {message.trans_id}, result {body.result}, "
                f"count {body.page_count}",
            )
            yield state("S_IDLE")


def _unballoon_owed(messages: list[Any], index: int) -> int:
    """Pages of the unballoon series that starts at ``messages[index]``, all parts."""
    total = 0
    for message in messages[index:]:
        if MESSAGE_TYPES[message.type] != "DM_UNBALLOON_REQUEST":
            continue
        total += sum(r.page_cnt for r in message.body.range_array)
        if not message.body.more_pages:
            break
    return total


# --- QMP ----------------------------------------------------------------------------------


def qmp_lines(session: Any) -> Iterator[str]:
    """The QMP greeting, then each HV_BALLOON_STATUS_REPORT event QEMU's rate limit lets out.

    monitor.c sends the first event at once and holds later ones for a
    second, a newer one replacing a held one; the held one goes out when the
    second is over, with the time it was built.  Lines end in CRLF.
    """
    yield (
        '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": ""}, '
        '"capabilities": ["oob"]}}\r'
    )
    yield '{"return": {}}\r'
    window_end: float | None = None
    held: Any = None
    for message in _messages(session):
        if MESSAGE_TYPES[message.type] != "DM_STATUS_REPORT":
            continue
        time = message.frame.time
        if window_end is not None and time >= window_end:
            if held is not None:
                yield _qmp_event(held)
                window_end += QMP_THROTTLE
                held = None
            if time >= window_end:
                window_end = None
        if window_end is None:
            yield _qmp_event(message)
            window_end = time + QMP_THROTTLE
        else:
            held = message
    if held is not None:
        yield _qmp_event(held)


def _qmp_event(message: Any) -> str:
    micros = round(message.frame.time * 1_000_000)
    body = message.body
    return (
        f'{{"timestamp": {{"seconds": {micros // 1_000_000}, "microseconds": '
        f'{micros % 1_000_000}}}, "event": "HV_BALLOON_STATUS_REPORT", "data": '
        f'{{"available": {body.num_avail * PAGE_SIZE}, '
        f'"committed": {body.num_committed * PAGE_SIZE}}}}}\r'
    )


# --- the guest: dmesg and ftrace -------------------------------------------------------------


def _since_boot(message: Any, boot_time: float) -> str:
    micros = round((message.frame.time - boot_time) * 1_000_000)
    return f"{micros // 1_000_000:5d}.{micros % 1_000_000:06d}"


def dmesg_text_lines(session: Any) -> Iterator[str]:
    """The hv_balloon lines the Linux driver prints (dynamic debug on), ``[%5lu.%06lu]`` stamps."""
    boot = session.boot_time
    registered = False
    asked: int | None = None
    hot_add_at: int | None = None
    for message in _messages(session):
        stamp = f"[{_since_boot(message, boot)}] "
        kind = MESSAGE_TYPES[message.type]
        body = message.body
        if not registered:
            yield stamp + "hv_vmbus: registering driver hv_balloon"
            registered = True
        if kind == "DM_VERSION_RESPONSE" and body.is_accepted:
            yield stamp + "hv_balloon: Using Dynamic Memory protocol version 2.0"
        elif kind == "DM_BALLOON_REQUEST":
            asked = body.num_pages
        elif kind == "DM_BALLOON_RESPONSE" and not body.more_pages and asked is not None:
            last = sum(r.page_cnt for r in body.range_array)
            yield stamp + f"hv_balloon: Ballooned {last} out of {asked} requested pages."
            asked = None
        elif kind == "DM_UNBALLOON_REQUEST":
            pages = sum(r.page_cnt for r in body.range_array)
            yield stamp + f"hv_balloon: Freed {pages} ballooned pages."
        elif kind == "DM_MEM_HOT_ADD_REQUEST":
            page_range = body.range
            hot_add_at = page_range.start_page
            yield stamp + (
                f"hv_balloon: Hot adding {page_range.page_cnt} pages starting at pfn "
                f"{page_range.start_page:#x}."
            )
        elif kind == "DM_MEM_HOT_ADD_RESPONSE" and body.page_count == 0:
            yield stamp + "hv_balloon: Memory hot add failed"
        elif kind == "DM_MEM_HOT_ADD_RESPONSE" and hot_add_at is not None:
            yield stamp + (
                f"hv_balloon: Online {body.page_count} pages starting at pfn {hot_add_at:#x}"
            )


def ftrace_lines(session: Any) -> Iterator[str]:
    """trace_pipe lines of ``hyperv:balloon_status``, one per status report the guest sends."""
    boot = session.boot_time
    ballooned = added = 0
    for message in _messages(session):
        kind = MESSAGE_TYPES[message.type]
        body = message.body
        if kind == "DM_BALLOON_RESPONSE":
            ballooned += sum(r.page_cnt for r in body.range_array)
        elif kind == "DM_UNBALLOON_REQUEST":
            ballooned -= sum(r.page_cnt for r in body.range_array)
        elif kind == "DM_MEM_HOT_ADD_RESPONSE":
            added += body.page_count
        elif kind == "DM_STATUS_REPORT":
            vm_committed = max(body.num_committed - ballooned, 0)
            yield (
                f"      hv_balloon-{GUEST_PID:<7d} [001] ..... {_since_boot(message, boot)}: "
                f"balloon_status: available {body.num_avail}, committed {body.num_committed}; "
                f"vm_memory_committed {vm_committed}; pages_ballooned {ballooned}, "
                f"pages_added {added}, pages_onlined {added}"
            )


def log_text(session: Any, fmt: str) -> str:
    """The whole log of ``fmt`` (one of :data:`LOG_FORMATS`) for the session."""
    writers = {
        "qemu-trace": qemu_trace_lines,
        "qmp": qmp_lines,
        "dmesg": dmesg_text_lines,
        "ftrace": ftrace_lines,
    }
    return "".join(line + "\n" for line in writers[fmt](session))
