"""Reports: JUnit XML for CI systems, a JSON report, and the human summary on stdout."""

import json
import re
import xml.etree.ElementTree as ET

from . import exposure as exposure_report
from .results import CHECKS

# Failure messages start with the leak's name in capitals (checks.py).
_LEAK_NAME = re.compile(r"([A-Z][A-Z -]+[A-Z]):")


def by_check(results):
    grouped = {check: [] for check in CHECKS}
    for r in results:
        grouped.setdefault(r.check, []).append(r)
    return {check: rs for check, rs in grouped.items() if rs}


def counts(results):
    c = {"pass": 0, "fail": 0, "skip": 0}
    for r in results:
        c[r.status] += 1
    return c


def write_junit(path, results, seconds, properties):
    root = ET.Element("testsuites", name="blindrouter-harness", time=f"{seconds:.3f}")
    total = counts(results)
    root.set("tests", str(len(results)))
    root.set("failures", str(total["fail"]))
    root.set("skipped", str(total["skip"]))
    for check, rs in by_check(results).items():
        c = counts(rs)
        suite = ET.SubElement(root, "testsuite", name=f"harness.{check}", tests=str(len(rs)),
                              failures=str(c["fail"]), skipped=str(c["skip"]), errors="0")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="description", value=CHECKS.get(check, ""))
        for k, v in properties.items():
            ET.SubElement(props, "property", name=k, value=str(v))
        for r in rs:
            case = ET.SubElement(suite, "testcase", classname=f"harness.{check}", name=r.name,
                                 time=f"{r.seconds:.3f}")
            if r.status == "fail":
                failure = ET.SubElement(case, "failure", message=r.message[:500], type=check)
                failure.text = r.message
            elif r.status == "skip":
                ET.SubElement(case, "skipped", message=r.message)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_json(path, results, seconds, properties, figures, exposure):
    total = counts(results)
    document = {
        "result": "fail" if total["fail"] else "pass",
        "seconds": round(seconds, 3),
        "target": properties,
        "totals": total,
        "checks": {check: {"description": CHECKS.get(check, ""), **counts(rs),
                           "results": [r.as_dict() for r in rs]}
                   for check, rs in by_check(results).items()},
        "figures": figures,
        "metadata_exposure": exposure,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, default=str)


def summary_lines(results, seconds, figures, exposure, per_check=3):
    total = counts(results)
    lines = ["", "Checks (pass / fail / skip):"]
    for check, rs in by_check(results).items():
        c = counts(rs)
        mark = "FAIL" if c["fail"] else ("skip" if c["skip"] == len(rs) else "ok")
        lines.append(f"  {mark:4} {check:20} {c['pass']:4} {c['fail']:4} {c['skip']:4}  "
                     f"{CHECKS.get(check, '')}")
    failures = [r for r in results if r.status == "fail"]
    if failures:
        named = {}
        for r in failures:
            m = _LEAK_NAME.match(r.message)
            if m:
                named[m.group(1)] = named.get(m.group(1), 0) + 1
        if named:
            lines.append("Leaks and faults found: " + ", ".join(
                f"{name} ×{n}" for name, n in sorted(named.items(), key=lambda kv: -kv[1])))
        lines.append(f"Failures ({len(failures)}; at most {per_check} per check, all in the "
                     "JUnit / JSON reports):")
        for check, rs in by_check(failures).items():
            for r in rs[:per_check]:
                lines.append(f"  [{check}] {r.name}: {r.message}")
            if len(rs) > per_check:
                lines.append(f"  [{check}] ... {len(rs) - per_check} more")
    skips = [r for r in results if r.status == "skip"]
    for r in skips:
        lines.append(f"  skipped [{r.check}] {r.name}: {r.message}")
    lines.append("Figures: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items()))
    if exposure is not None:
        lines += exposure_report.summary_lines(exposure)
    verdict = "FAIL" if total["fail"] else "PASS"
    lines.append(f"harness: {verdict}: {total['pass']} passed, {total['fail']} failed, "
                 f"{total['skip']} skipped in {seconds:.1f}s")
    return lines
