"""``-T fields`` lines against the JSON of random messages built from the C header.

For every numeric field of the registry, the column ``-T fields`` writes
must be the JSON's values joined by the aggregator, in decimal, or for a
field shown in hex, ``0x`` and the digits of its width, as tshark writes
them; ``occurrence=f``/``l`` keep the first or last value.
"""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.analysis.registry import FIELDS, TimeReference
from dmdissect.pipeline import messages_of
from dmdissect.views.fieldsout import FieldsFormat, FieldsWriter
from dmdissect.views.jsonout import message_object
from dmdissect.views.output import Output
from tests.randcapture import capture, json_values

#: Numeric protocol fields and the hex digits tshark gives them (None: decimal).
NUMERIC = {
    "hdr.type": None,
    "hdr.size": None,
    "hdr.trans_id": None,
    "num_avail": None,
    "num_pages": None,
    "range_count": None,
    "more_pages": None,
    "range_array.page_cnt": None,
    "range_array.start_page": 10,
    "max_page_number": 16,
    "version.major_version": None,
    "version.version": 8,
    "caps.hot_add": None,
    "info_size": None,
    "info.data_size": None,
    "frame.number": None,
    "frame.len": None,
}


def expected(values: list, digits: int | None, occurrence: str, aggregator: str) -> str:
    if occurrence == "f":
        values = values[:1]
    elif occurrence == "l":
        values = values[-1:]
    if digits is None:
        return aggregator.join(str(v) for v in values)
    return aggregator.join(f"0x{v:0{digits}x}" for v in values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames=capture(),
    occurrence=st.sampled_from("fla"),
    aggregator=st.sampled_from([",", " ", ";"]),
    separator=st.sampled_from(["\t", ",", "|"]),
)
def test_columns_are_the_json_values(frames, occurrence, aggregator, separator):
    names = list(NUMERIC)
    fmt = FieldsFormat(separator=separator, occurrence=occurrence, aggregator=aggregator)
    stream = io.StringIO()
    writer = FieldsWriter([FIELDS[n] for n in names], fmt, Output(stream), TimeReference())
    data = {frame.index: frame.data for frame in frames}
    for message in messages_of(frames):
        obj = message_object(message)
        want = separator.join(
            expected(json_values(obj, n, data[obj["frame"]]), NUMERIC[n], occurrence, aggregator)
            for n in names
        )
        assert writer.line(message) == want
