"""Where Wireshark looks for a user's own Lua plugins.

Wireshark's user guide ("Plugin folders"): on Windows the personal plugin
folder is ``%APPDATA%\\Wireshark\\plugins``; on Unix-like systems, macOS
included, it is ``~/.local/lib/wireshark/plugins``.  Lua plugins sit in the
folder itself (compiled ones in version subfolders).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PLUGIN_NAME = "hvdm.lua"


def personal_plugin_folder(platform: str | None = None) -> Path:
    """The personal Lua plugin folder of Wireshark on ``platform`` (default: this one)."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        appdata = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(appdata) / "Wireshark" / "plugins"
    return Path.home() / ".local" / "lib" / "wireshark" / "plugins"


def plugin_path(platform: str | None = None) -> Path:
    """Where ``dmdissect wireshark --install`` writes the plugin."""
    return personal_plugin_folder(platform) / PLUGIN_NAME
