#!/usr/bin/env python3
"""The end-to-end checks that split mode skips (``@pytest.mark.single_node(reason)`` in
tests/e2e, or ``pytestmark = pytest.mark.single_node(reason)`` for a whole module) are
exactly those README lists under "Checks that stay single-node", with the same reasons
(issue 19): a marker added or removed without the README, or the other way round, is
reported here. Read from the sources (ast), so nothing needs to run.

Prints each difference; exits 1 if there is any.
"""
import ast
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
HEADING = "### Checks that stay single-node"


def single_node_reason(node):
    """The reason of a ``pytest.mark.single_node("...")`` call, else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "single_node"
            and ast.unparse(node.func.value) == "pytest.mark"):
        assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant), \
            f"single_node takes one literal reason, at line {node.lineno}"
        return node.args[0].value
    return None


def markers():
    found = {}
    for path in sorted((root / "tests" / "e2e").glob("test_*.py")):
        name = path.relative_to(root).as_posix()
        for statement in ast.parse(path.read_text(), str(path)).body:
            if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets):
                values = statement.value.elts if isinstance(statement.value, ast.List) else [statement.value]
                for value in values:
                    if (reason := single_node_reason(value)) is not None:
                        found[name] = reason
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in statement.decorator_list:
                    if (reason := single_node_reason(decorator)) is not None:
                        found[f"{name}::{statement.name}"] = reason
    return found


def readme_list():
    lines = (root / "README.md").read_text().splitlines()
    if HEADING not in lines:
        return None
    listed = {}
    for line in lines[lines.index(HEADING) + 1:]:
        if line.startswith("#"):
            break
        if m := re.match(r"^- `([^`]+)`: (.+)$", line):
            listed[m.group(1)] = m.group(2)
    return listed


def main():
    marked = markers()
    listed = readme_list()
    if listed is None:
        print(f"README.md: no heading {HEADING!r}")
        return 1
    problems = []
    for test_id in sorted(marked.keys() | listed.keys()):
        if test_id not in listed:
            problems.append(f"{test_id}: marked single_node ({marked[test_id]!r}) but not in README.md")
        elif test_id not in marked:
            problems.append(f"{test_id}: listed in README.md but not marked single_node")
        elif marked[test_id] != listed[test_id]:
            problems.append(f"{test_id}: reason in the marker {marked[test_id]!r}, in README.md {listed[test_id]!r}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
