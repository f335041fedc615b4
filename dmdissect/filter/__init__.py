"""Wireshark display filters (``-Y``) over dissected messages.

``compile_filter(text)`` returns a :class:`Filter`: call it on a message for
True or False; call ``see(message)`` on every message of the input, in order,
so ``frame.time_relative`` counts from the first one.  An invalid filter
raises :class:`FilterError` with Wireshark's wording and the column.
"""

from dmdissect.filter.compiler import Filter, FilterError, compile_filter

__all__ = ["Filter", "FilterError", "compile_filter"]
