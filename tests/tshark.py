"""Running the real tshark with the generated plugin, and reading what it shows.

Shared by the Wireshark tests.  Each capture is dissected by one tshark run
(many frames per run keeps the tests fast); what tshark shows is flattened
into ``{abbrev: [values...]}`` per frame, the same shape the tests build from
dmdissect's JSON, so the two are compared value for value.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

TSHARK = shutil.which("tshark")

#: Keys of dmdissect's JSON that are not protocol fields.
META_KEYS = {
    "frame",
    "time",
    "origin",
    "file",
    "interface",
    "length",
    "comment",
    "transaction",
    "expert",
    "pages_lower_bound",
}


def require_tshark() -> str:
    """tshark's path; in CI a missing tshark fails the test instead of skipping it."""
    if TSHARK is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is not installed, and CI must run the Wireshark tests")
        pytest.skip("tshark is not installed")
    return TSHARK


def run(plugin: Path, capture: Path, *args: str) -> subprocess.CompletedProcess:
    """One tshark run over ``capture`` with the plugin loaded; fails on stderr noise."""
    result = subprocess.run(
        [require_tshark(), "-n", "-X", f"lua_script:{plugin}", "-r", str(capture), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    noise = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and "Running as user" not in line and "could be dangerous" not in line
    ]
    assert result.returncode == 0, result.stderr
    assert not noise, "\n".join(noise)
    return result


#: What an expert subtree of the plugin shows, in the order of dmdissect's finding JSON.
EXPERT_KEYS = ("id", "group", "severity", "message", "field")


def _walk(node, fields, experts, rows) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, fields, experts, rows)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "hvdm.expert":
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict):
                    rows.append(tuple(entry.get(f"hvdm.expert.{k}") for k in EXPERT_KEYS))
        if key == "_ws.expert":
            for entry in value if isinstance(value, list) else [value]:
                ids = [k for k in entry if k.startswith("hvdm.")]
                experts.append((ids[0] if ids else None, entry.get("_ws.expert.message")))
            continue
        if key == "_ws.lua.error" or key.startswith("Lua Error"):
            raise AssertionError(f"Lua error: {key} {value}")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, dict):
                if key.startswith("hvdm."):
                    fields[key].append("")
                _walk(item, fields, experts, rows)
            elif key.startswith("hvdm."):
                fields[key].append(item)


def packets(plugin: Path, capture: Path) -> dict[int, tuple[dict, list, list]]:
    """frame number -> (fields, experts, expert rows) as ``tshark -T json`` shows them.

    ``fields`` holds ``hvdm`` itself when the protocol is in the frame;
    ``experts`` the (id, message) of each expert info; the rows are each
    ``hvdm.expert`` subtree's fields, in the order of :data:`EXPERT_KEYS`.
    """
    out = run(plugin, capture, "-T", "json", "--no-duplicate-keys").stdout
    result = {}
    for packet in json.loads(out):
        layers = packet["_source"]["layers"]
        number = int(layers["frame"]["frame.number"])
        assert "_ws.lua.error" not in json.dumps(layers), layers
        fields: dict[str, list] = defaultdict(list)
        experts: list = []
        rows: list = []
        if "hvdm" in layers:
            fields["hvdm"].append("")
        _walk(layers.get("hvdm", {}), fields, experts, rows)
        result[number] = (dict(fields), experts, rows)
    return result


def columns(plugin: Path, capture: Path, *fields: str) -> dict[int, list[str]]:
    """frame number -> the values of ``fields`` (``-T fields``), e.g. ``_ws.col.Info``."""
    args = ["-T", "fields", "-E", "separator=/t", "-e", "frame.number"]
    for name in fields:
        args += ["-e", name]
    out = run(plugin, capture, *args).stdout
    rows = {}
    for line in out.split("\n"):
        if line:
            number, *rest = line.split("\t")
            rows[int(number)] = rest
    return rows


def selected(plugin: Path, capture: Path, display_filter: str) -> list[int]:
    """Frame numbers ``tshark -Y FILTER`` keeps."""
    out = run(plugin, capture, "-Y", display_filter, "-T", "fields", "-e", "frame.number").stdout
    return [int(line) for line in out.split()]


def refusal(plugin: Path, capture: Path, display_filter: str) -> str:
    """The sentence tshark refuses ``display_filter`` with (its exit status is not 0)."""
    result = subprocess.run(
        [require_tshark(), "-n", "-X", f"lua_script:{plugin}", "-r", str(capture)]
        + ["-Y", display_filter],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    assert result.returncode != 0, f"tshark accepted {display_filter!r}"
    line = next(line for line in result.stderr.splitlines() if line.startswith("tshark: "))
    return line.removeprefix("tshark: ")


def expected_fields(obj: dict) -> dict[str, list]:
    """dmdissect's JSON of one message as ``{hvdm.abbrev: [values]}``."""
    out: dict[str, list] = defaultdict(list)

    def add(prefix: str, value) -> None:
        if value is None:
            return
        if isinstance(value, dict) and all(inner is None for inner in value.values()):
            # A structure none of whose fields arrived is not there (the header of a
            # frame that ends before its type).
            return
        if isinstance(value, dict):
            out[f"hvdm.{prefix}"].append("")
            for key, inner in value.items():
                if key.endswith(("_name", "_names")) or (prefix == "vmbus" and key == "type_name"):
                    continue
                add(f"{prefix}.{key}", inner)
        elif isinstance(value, list):
            out[f"hvdm.{prefix}"].append("")
            for item in value:
                if isinstance(item, dict):
                    for key, inner in item.items():
                        if not key.endswith(("_name", "_names")):
                            add(f"{prefix}.{key}", inner)
                else:
                    out[f"hvdm.{prefix}"].append(item)
        else:
            out[f"hvdm.{prefix}"].append(value)

    out["hvdm"].append("")
    for key, value in obj.items():
        if key in META_KEYS or key.endswith(("_name", "_names")) and key != "type_name":
            continue
        if key == "hdr":
            add("hdr", {k: v for k, v in value.items() if k != "type_name"})
        else:
            add(key, value)
    return dict(out)


def same_value(expected, shown: str) -> bool:
    """One of dmdissect's JSON values against tshark's text for it."""
    if isinstance(expected, bool):
        return shown in ("1", "True") if expected else shown in ("0", "False")
    if isinstance(expected, int):
        try:
            return int(shown, 0) == expected
        except ValueError:
            return False
    if expected == "":
        return True
    text = str(expected)
    return shown == text or shown.replace(":", "") == text
