"""Display-filter macros as Wireshark 4.0 has them: ``${name}`` and ``${name:arg1;arg2}``.

Wireshark keeps them in the file ``dfilter_macros`` of the personal
configuration folder (Edit > Configuration Profiles shows where; ``tshark -G
folders`` prints it), one macro a line as ``"name","text"``, and expands them
in the filter's text before parsing it: ``$1``, ``$2`` ... in the text are
the arguments, and a macro's text may use other macros.  dmdissect reads the
same file from the same place, so a filter a tshark user wrote works as is:
the file of the profile ``-C NAME`` chooses (``profiles/NAME`` in that
folder; ``Default`` is the folder itself), and where the profile has none,
the one Wireshark ships in its global configuration folder, as Wireshark
falls back to it (the two are never merged).

As in tshark 4.0, ``${name}`` that is no macro is left as it is when ``name``
is a field (a field reference, ``${hdr.trans_id}``), and is an error
otherwise ("macro 'x' does not exist"); the expansion does not look at
quotes.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from dmdissect.views.english import plural

#: The file of macros in Wireshark's personal configuration folder.
MACROS_FILE = "dfilter_macros"
#: Macros a macro's text may go through, one inside the other (a macro that uses
#: itself would never end).
MAX_NESTING = 32
#: The longest filter the macros may make: each macro may use another twice, so 32
#: levels could make 2**32 copies (tshark runs out of stack on far fewer).
MAX_EXPANDED = 1 << 20

_LINE = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*')
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")
_ARGUMENT = re.compile(r"\$(\d+)")


class MacroError(ValueError):
    """A macro that cannot be expanded: tshark's words, and the column of its ``${``."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def config_folder() -> Path:
    """Wireshark's personal configuration folder, found as Wireshark finds it.

    ``$WIRESHARK_CONFIG_DIR`` when set; else the old ``~/.wireshark`` when it
    exists; else ``$XDG_CONFIG_HOME/wireshark`` (``~/.config/wireshark``).
    """
    explicit = os.environ.get("WIRESHARK_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    home = Path(os.environ.get("HOME") or Path.home())
    legacy = home / ".wireshark"
    if legacy.is_dir():
        return legacy
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else home / ".config") / "wireshark"


#: Where Wireshark's own files are when ``$WIRESHARK_DATA_DIR`` does not say (Linux
#: packages, a build installed under /usr/local, Homebrew).
GLOBAL_FOLDERS = (
    Path("/usr/share/wireshark"),
    Path("/usr/local/share/wireshark"),
    Path("/opt/homebrew/share/wireshark"),
)
#: The profile Wireshark calls the configuration folder itself.
DEFAULT_PROFILE = "Default"


class ProfileError(ValueError):
    """``-C NAME`` names no profile: tshark's words."""


def profile_folder(profile: str | None = None) -> Path:
    """The folder of configuration ``profile``, checked to exist as tshark checks it."""
    base = config_folder()
    if profile is None or profile == DEFAULT_PROFILE:
        return base
    folder = base / "profiles" / profile
    if "/" in profile or profile in ("", ".", "..") or not folder.is_dir():
        raise ProfileError(f'Configuration Profile "{profile}" does not exist')
    return folder


def macros_file(profile: str | None = None) -> Path | None:
    """The ``dfilter_macros`` Wireshark reads for ``profile``: the profile's own, else the
    global one (None when neither exists)."""
    own = profile_folder(profile) / MACROS_FILE
    if own.is_file():
        return own
    data = os.environ.get("WIRESHARK_DATA_DIR")
    for folder in (Path(data),) if data else GLOBAL_FOLDERS:
        if (folder / MACROS_FILE).is_file():
            return folder / MACROS_FILE
    return None


def _unescape(text: str) -> str:
    """A UAT field's text: Wireshark writes ``"`` and ``\\`` as ``\\x22`` and ``\\x5c``."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if len(code) == 3 and code[0] == "x" else code

    return _ESCAPE.sub(one, text)


def read_macros(path: Path | None = None, profile: str | None = None) -> dict[str, str]:
    """name -> text of the macros in ``path`` (default: the file :func:`macros_file` finds).

    A missing or unreadable file is no macros, as in Wireshark; lines that
    are not ``"name","text"`` (comments, blank lines) are passed over.
    """
    path = macros_file(profile) if path is None else path
    if path is None:
        return {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    macros = {}
    for line in lines:
        match = _LINE.fullmatch(line)
        if match:
            macros[_unescape(match.group(1))] = _unescape(match.group(2))
    return macros


def _argument(match: re.Match[str], args: list[str]) -> str:
    """``$N``'s argument; ``$0`` names none and stays as written."""
    number = int(match.group(1))
    return args[number - 1] if 1 <= number <= len(args) else match.group(0)


def _name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_-.")


def expand(
    text: str,
    macros: Mapping[str, str],
    is_field: Callable[[str], bool],
    depth: int = 0,
) -> str:
    """``text`` with every ``${name}`` / ``${name:args}`` macro replaced by its text."""
    if "${" not in text:
        return text
    out: list[str] = []
    at = 0
    while True:
        start = text.find("${", at)
        if start < 0:
            out.append(text[at:])
            return "".join(out)
        out.append(text[at:start])
        column = start + 1
        end = start + 2
        while end < len(text) and _name_char(text[end]):
            end += 1
        name = text[start + 2 : end]
        if end == len(text):
            raise MacroError("end of filter in the middle of a macro expression", column)
        args: list[str] = []
        if text[end] == "#" and is_field(name):
            # A reference to a layer of a field (``${frame.len#1}``, as newer Wireshark
            # has them): the filter's parser reads it.
            close = text.find("}", end)
            at = len(text) if close < 0 else close + 1
            out.append(text[start:at])
            continue
        if text[end] == ":":
            close = text.find("}", end)
            if close < 0:
                raise MacroError("end of filter in the middle of a macro expression", column)
            args = text[end + 1 : close].split(";")
            end = close
        elif text[end] != "}":
            raise MacroError("invalid character in macro name", column)
        at = end + 1
        if name not in macros:
            if not args and is_field(name):
                out.append(text[start:at])  # a field reference, for the filter's parser
                continue
            raise MacroError(f"macro '{name}' does not exist", column)
        body = macros[name]
        wanted = max((int(n) for n in _ARGUMENT.findall(body)), default=0)
        if len(args) != wanted:
            raise MacroError(
                f"wrong number of arguments for macro '{name}', expecting {wanted} "
                f"instead of {len(args)}",
                column,
            )
        if depth >= MAX_NESTING:
            raise MacroError(
                f"macro '{name}' goes through more than {plural(MAX_NESTING, 'macro')}", column
            )
        filled = _ARGUMENT.sub(functools.partial(_argument, args=args), body)
        out.append(expand(filled, macros, is_field, depth + 1))
        if sum(map(len, out)) > MAX_EXPANDED:
            raise MacroError(f"macros expand the filter beyond {MAX_EXPANDED} characters", column)
