"""Everything the user reads: text, trees, tables and JSON, written from the analysis' facts.

- :mod:`~dmdissect.views.output`: where text goes (colour only on a terminal, escaping).
- :mod:`~dmdissect.views.render`: ``read``'s output in the format asked for.
- :mod:`~dmdissect.views.summary`: one line per message.
- :mod:`~dmdissect.views.tree`: the field tree of ``read -V``.
- :mod:`~dmdissect.views.reassembly`: the reassembled transaction under its final message (``-V``).
- :mod:`~dmdissect.views.fields`: the field walk the tree and JSON share.
- :mod:`~dmdissect.views.jsonout`: messages as JSON objects.
- :mod:`~dmdissect.views.records`: the tracker's records in words and as JSON.
- :mod:`~dmdissect.views.expert`: findings as text styles and JSON.
- :mod:`~dmdissect.views.session`: the session header ``read`` and ``timeline`` print.
- :mod:`~dmdissect.views.timeline`: the timeline table.
- :mod:`~dmdissect.views.hexview`: ``-x`` hex and ASCII lines.
- :mod:`~dmdissect.views.hexlog`: messages as kernel-log hex dumps (``synth``).
- :mod:`~dmdissect.views.progress`: the progress bar on a terminal.
- :mod:`~dmdissect.views.english`: counts and sizes in English, for every stage (Scapy-free).
- :mod:`~dmdissect.views.phrases`: the words of each layer's summary line (the plugin's too).
"""
