"""The timeline shows the findings of each transaction's messages, and parts mean messages."""

from __future__ import annotations

import json
import struct

from click.testing import CliRunner

from dmdissect.cli import main
from tests.pcapfile import pcap_bytes


def test_each_transaction_carries_its_messages_findings_with_frames(tmp_path):
    request = struct.pack("<HHI", 6, 16, 0) + struct.pack("<II", 1024, 0)
    # range_count 3, one range present, hdr.size saying 32: two findings on frame 2.
    part = struct.pack("<HHI", 7, 32, 5) + struct.pack("<II", 0, 3 << 1)
    part += struct.pack("<Q", 0x1000 | 512 << 40) + b"\0" * 8
    path = tmp_path / "t.pcap"
    path.write_bytes(pcap_bytes([(1.0, request), (2.0, part)]))
    read = json.loads(CliRunner().invoke(main, ["read", "-T", "json", str(path)]).stdout)
    expected = [{"frame": 2, **finding} for finding in read[1]["expert"]]
    rows = json.loads(CliRunner().invoke(main, ["timeline", "-T", "json", str(path)]).stdout)
    (balloon,) = [row for row in rows if row["kind"] == "balloon"]
    assert balloon["message_expert"] == expected
    assert balloon["message_expert_count"] == len(expected) >= 1
    assert balloon["parts"] == 2  # the request and its one part: messages, as for every kind
    text = CliRunner().invoke(main, ["timeline", str(path)]).stdout
    worst = next(f for f in read[1]["expert"] if f["severity"] == "error")
    assert (
        f"[{len(expected)} message finding{'s' if len(expected) > 1 else ''}, worst in frame 2: "
        f"error: {worst['message']}]" in text
    )
