"""Reports: JUnit XML for CI systems, a JSON report, and the human summary on stdout."""

import json
import re
import xml.etree.ElementTree as ET

from . import exposure as exposure_report
from .results import CHECK_RULES, CHECKS, DOCS, PROFILES, profiles_in

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


# What a PASS of each profile means, for the verdict line a CI log reader sees first.
PROFILE_TEXT = {
    "blind": "no canary, plaintext or ciphertext outside the payload (wire, logs, meta, "
             "metrics); payloads byte-exact with their details; no stray delivery",
    "e2e": "blind, and blindrouter's end-to-end rules (refusals, announcements, shutdown)",
}


def verdicts(results, profiles):
    """{profile: {"verdict", pass, fail, skip, failed_checks}}; e2e counts blind too. A
    profile with no passing result has proved nothing and does not pass."""
    found = {}
    for profile in profiles:
        rs = [r for r in results if r.profile in profiles_in(profile)]
        c = counts(rs)
        failed_checks = {}
        for r in rs:
            if r.status == "fail":
                failed_checks[r.check] = failed_checks.get(r.check, 0) + 1
        found[profile] = dict(c, verdict="FAIL" if c["fail"] or not c["pass"] else "PASS",
                              failed_checks=failed_checks)
    return found


def verdict_lines(verdicts):
    lines = []
    for profile, v in verdicts.items():
        failed = ", ".join(f"{check} ×{n}" for check, n in v["failed_checks"].items())
        why = f"; failed: {failed}" if failed else ("; nothing passed" if not v["pass"] else "")
        lines.append(f"{profile.upper()}: {v['verdict']} ({v['pass'] + v['fail']} checks, "
                     f"{v['fail']} failed, {v['skip']} skipped{why}) -- {PROFILE_TEXT[profile]}")
    return lines


def write_junit(path, results, seconds, properties):
    root = ET.Element("testsuites", name="blindrouter-harness", time=f"{seconds:.3f}")
    total = counts(results)
    root.set("tests", str(len(results)))
    root.set("failures", str(total["fail"]))
    root.set("skipped", str(total["skip"]))
    # One testsuite per profile and check: the classname says both (harness.blind.wire),
    # and a testcase property repeats the profile for CI systems that show properties.
    groups = {}
    for check, rs in by_check(results).items():
        for r in rs:
            groups.setdefault((r.profile, check), []).append(r)
    for (profile, check), rs in sorted(groups.items(), key=lambda kv: PROFILES.index(kv[0][0])):
        c = counts(rs)
        classname = f"harness.{profile}.{check}"
        suite = ET.SubElement(root, "testsuite", name=classname, tests=str(len(rs)),
                              failures=str(c["fail"]), skipped=str(c["skip"]), errors="0")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="profile", value=profile)
        ET.SubElement(props, "property", name="description", value=CHECKS.get(check, ""))
        ET.SubElement(props, "property", name="rules", value=DOCS)
        for k, v in properties.items():
            ET.SubElement(props, "property", name=k, value=str(v))
        for r in rs:
            case = ET.SubElement(suite, "testcase", classname=classname, name=r.name,
                                 time=f"{r.seconds:.3f}")
            case_props = ET.SubElement(case, "properties")
            ET.SubElement(case_props, "property", name="profile", value=profile)
            if r.status == "fail":
                failure = ET.SubElement(case, "failure", message=r.message[:500], type=check)
                failure.text = r.message
            elif r.status == "skip":
                ET.SubElement(case, "skipped", message=r.message)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_json(path, results, seconds, properties, figures, exposure, verdicts):
    total = counts(results)
    document = {
        "result": "fail" if any(v["verdict"] != "PASS" for v in verdicts.values()) else "pass",
        "profiles": verdicts,
        "rules": DOCS,
        "seconds": round(seconds, 3),
        "target": properties,
        "totals": total,
        "checks": {check: {"description": CHECKS.get(check, ""),
                           "profile": CHECK_RULES.get(check, ("e2e",))[0], **counts(rs),
                           "results": [r.as_dict() for r in rs]}
                   for check, rs in by_check(results).items()},
        "figures": figures,
        "metadata_exposure": exposure,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, default=str)


def summary_lines(results, seconds, figures, exposure, verdicts, per_check=3):
    total = counts(results)
    lines = [""] + verdict_lines(verdicts) + [f"Rules and profiles: {DOCS}",
                                               "Checks (pass / fail / skip):"]
    for check, rs in by_check(results).items():
        c = counts(rs)
        mark = "FAIL" if c["fail"] else ("skip" if c["skip"] == len(rs) else "ok")
        profile = CHECK_RULES.get(check, ("e2e",))[0]
        lines.append(f"  {mark:4} {profile:5} {check:20} {c['pass']:4} {c['fail']:4} {c['skip']:4}  "
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
    verdict = "FAIL" if any(v["verdict"] != "PASS" for v in verdicts.values()) else "PASS"
    lines.append(f"harness: {verdict} (profile {list(verdicts)[-1]}): {total['pass']} passed, "
                 f"{total['fail']} failed, "
                 f"{total['skip']} skipped in {seconds:.1f}s")
    return lines
