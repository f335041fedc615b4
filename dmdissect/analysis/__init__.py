"""What the messages mean, beyond their bytes: the stage between the layers and the views.

- :mod:`~dmdissect.analysis.message`: the dissected message, the model every later stage reads.
- :mod:`~dmdissect.analysis.dissect`: a frame in, a message out (layers, direction, checks).
- :mod:`~dmdissect.analysis.expert`: per-message expert checks (what one message's bytes reveal).
- :mod:`~dmdissect.analysis.transactions`: the tracker that pairs messages into transactions.
- :mod:`~dmdissect.analysis.records`: the facts the tracker records (transactions, series,
  the session, each message's link), with bounded memory.
- :mod:`~dmdissect.analysis.intervals`: page-range sets for overlap and unballoon checks.

Nothing here writes text or JSON; :mod:`dmdissect.views` does.
"""
