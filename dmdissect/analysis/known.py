"""What a cut message really says: a field the bytes end before is unknown, not zero.

Scapy fills a field it could not read with its default (0), and a compiled
values object has no value at all; both list the field in ``missing``.  Every
stage that reasons about a value (expert checks, the tracker's outcomes and
totals) asks through :func:`known`, so a cut VERSION_RESPONSE is never
"refused" and a cut HOT_ADD_RESPONSE never "result 0".
"""

from __future__ import annotations

from typing import Any


def known(body: Any, name: str) -> Any:
    """The value of field ``name`` of ``body``, or None when the bytes ended before it."""
    if body is None or name in body.missing:
        return None
    return getattr(body, name, None)
