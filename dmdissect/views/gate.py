"""What ``check`` prints: compiler-style lines, and the same verdicts as JUnit XML.

``file:N: severity id: message`` is the form editors and CI annotate
(GCC's and ruff's), so a failing session points straight at its frames.  The
JUnit file has one test case per check id, so a CI system's test view shows
which checks failed on which input and lists the frames in the failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from xml.etree import ElementTree

from dmdissect.analysis.health import Verdict, reaches
from dmdissect.findings import Severity
from dmdissect.views.output import printable


def check_line(where: tuple[str, int], item: Verdict) -> str:
    """One finding or verdict: ``file:N: severity id: message`` (N 0: the session).

    ``where`` is the file and the place in it (a capture's record, a text
    input's line).  The frames, as ``read`` numbers them, follow in brackets
    whenever they say more than N: several of them, or a frame whose number
    is not N (a line of text, a merge of several inputs).
    """
    path, place = where
    more = ""
    if len(item.frames) > 1 or (item.frames and item.frames[0] != place):
        label = "frames" if len(item.frames) > 1 else "frame"
        more = f" [{label} " + ", ".join(str(f) for f in item.frames) + "]"
    return (
        f"{printable(path)}:{place}: {item.severity.value} {item.id}: "
        f"{printable(item.message)}{more}"
    )


@dataclass(frozen=True, slots=True)
class CheckedInput:
    """One session as ``check`` judged it: its name, the items after the rules, any read error."""

    path: str
    items: list[Verdict]
    error: str | None = None
    #: The file and place an item points at (see ``HealthRun.where``); else its first frame.
    where: Callable[[Verdict], tuple[str, int]] | None = None
    #: The files the session was read from (several merged logs of one session).
    files: tuple[str, ...] = ()

    def place(self, item: Verdict) -> tuple[str, int]:
        if self.where is not None:
            return self.where(item)
        return self.path, item.frames[0] if item.frames else 0


def junit_xml(
    inputs: Iterable[CheckedInput], check_ids: Iterable[str], threshold: Severity, off: set[str]
) -> bytes:
    """JUnit XML: a suite per session, a case per check id, failures carrying the frames."""
    ids = sorted(set(check_ids))
    root = ElementTree.Element("testsuites", name="dmdissect check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for checked in inputs:
        by_id: dict[str, list[Verdict]] = {}
        for item in checked.items:
            by_id.setdefault(item.id, []).append(item)
        suite = ElementTree.SubElement(root, "testsuite", name=_xml_text(checked.path))
        files = checked.files or (checked.path,)
        if len(files) > 1:
            # A merged session: every file it was read from, as a CI system lists them.
            properties = ElementTree.SubElement(suite, "properties")
            for name in files:
                ElementTree.SubElement(properties, "property", name="file", value=_xml_text(name))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check_id in sorted(set(ids) | set(by_id)):
            items = by_id.get(check_id, [])
            failing = [i for i in items if reaches(i.severity, threshold)]
            # A case's file is a real path: where its worst failure is, else the first file.
            pointed = [i for i in failing or items if i.frames]
            home = (
                checked.place(min(pointed, key=lambda i: _rank(i.severity)))[0]
                if pointed
                else files[0]
            )
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=check_id.rsplit(".", 1)[0],
                name=check_id,
                file=_xml_text(home),
            )
            counts["tests"] += 1
            if check_id in off:
                ElementTree.SubElement(case, "skipped", message="turned off by --rule")
                counts["skipped"] += 1
            elif failing:
                worst = min(failing, key=lambda i: _rank(i.severity))
                frames = sorted({f for i in failing for f in i.frames[:1]})
                failure = ElementTree.SubElement(
                    case,
                    "failure",
                    message=_xml_text(
                        f"{len(failing)} at or above {threshold.value}, frames "
                        + ", ".join(map(str, frames))
                    ),
                    type=worst.severity.value,
                )
                failure.text = "\n".join(
                    _xml_text(check_line(checked.place(i), i)) for i in failing
                )
                counts["failures"] += 1
            elif checked.error is not None:
                # Nothing failed in what was read, but the rest of the input is not known.
                ElementTree.SubElement(
                    case, "skipped", message="not known: the input was not read to its end"
                )
                counts["skipped"] += 1
            elif items:
                out = ElementTree.SubElement(case, "system-out")
                out.text = "\n".join(_xml_text(check_line(checked.place(i), i)) for i in items)
        if checked.error is not None:
            case = ElementTree.SubElement(
                suite, "testcase", classname="dmdissect", name="input", file=_xml_text(files[0])
            )
            error = ElementTree.SubElement(case, "error", message=_xml_text(checked.error))
            error.set("type", "InputError")
            counts["tests"] += 1
            counts["errors"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _rank(severity: Severity) -> int:
    return (Severity.ERROR, Severity.WARNING, Severity.NOTE).index(severity)


#: Characters XML 1.0 cannot hold at all, not even escaped.
_XML_FORBIDDEN = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def _xml_text(text: str) -> str:
    """Text XML can carry: characters it forbids shown as escapes, lone surrogates too."""
    cleaned = printable(text).translate({k: f"\\x{k:02x}" for k in _XML_FORBIDDEN})
    return cleaned.encode("utf-8", "backslashreplace").decode("utf-8")
