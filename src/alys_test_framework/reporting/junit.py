"""junit.xml: one testcase per harness test, so CI systems can show failures natively."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..results import RunResult, TestStatus
from .json_report import atomic_write

# junit has no "unsupported": it is shown as skipped, and the prefix keeps it apart from a
# test skipped by choice (the phase verdict testcase still fails the suite)
UNSUPPORTED_PREFIX = "unsupported: "


def build_junit(result: RunResult) -> ET.Element:
    root = ET.Element("testsuites", name="alys-test", id=result.run_id)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for phase in result.phases:
        suite = ET.SubElement(root, "testsuite", name=phase.phase.value)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for r in phase.results:
            case = ET.SubElement(
                suite,
                "testcase",
                name=r.name,
                classname=f"{phase.phase.value}.{r.harness}.{r.category}",
                time=f"{r.duration_s:.6f}",
            )
            counts["tests"] += 1
            if r.status in (TestStatus.FAILED, TestStatus.NOT_IMPLEMENTED):
                counts["failures"] += 1
                ET.SubElement(
                    case, "failure", message=r.message[:500], type=r.status.value
                ).text = r.message
            elif r.status is TestStatus.ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=r.message[:500], type="error").text = r.message
            elif r.status is TestStatus.SKIPPED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=r.message[:500])
            elif r.status is TestStatus.UNSUPPORTED:
                counts["skipped"] += 1
                text = UNSUPPORTED_PREFIX + r.message
                ET.SubElement(case, "skipped", message=text[:500], type="unsupported").text = text
        # the phase verdict itself is a testcase: a not-implemented or gated phase must show red
        case = ET.SubElement(
            suite,
            "testcase",
            name="phase_verdict",
            classname=f"{phase.phase.value}.validators",
            time=f"{phase.duration_s:.6f}",
        )
        counts["tests"] += 1
        if phase.status.value == "skipped":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=phase.message)
        elif not phase.passed:
            counts["failures"] += 1
            ET.SubElement(
                case,
                "failure",
                message=(phase.message or phase.status.value)[:500],
                type=phase.status.value,
            ).text = phase.message or phase.status.value
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{phase.duration_s:.6f}")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{result.finished_at - result.started_at:.6f}")
    return root


def write_junit(result: RunResult, path: Path) -> None:
    root = build_junit(result)
    ET.indent(root)
    atomic_write(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
