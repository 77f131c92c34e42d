#!/usr/bin/env python3
"""Rules of the code's shape that a compiler does not check (STYLE.md, issue 11):

1. The plugin reaches the core only through the public hook API and the message
   model: its quoted includes are blindrouter/hooks/message_hook.hpp,
   blindrouter/wamp/..., or its own headers under plugin/.
2. Messages are read through typed views: no positional field access
   (`.fields[...]`, `.fields =`, `fields.at(`) outside lib/src/codec and the
   schema table (lib/include/blindrouter/wamp/message*.hpp).
3. In the core, auth and the plugin, a log call's argument that is one of the
   strings a client chooses (named uri, topic, procedure, realm, authid, authrole,
   reason, message, ...) goes through wamp::log_text (issue 15). A heuristic on
   names: it reads the last name of each argument, so a client string renamed to
   something else escapes it.

Prints each breach with file and line; exits 1 if there is any.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
breaches = []

include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
for path in sorted((root / "plugin").rglob("*")):
    if path.suffix not in (".cpp", ".hpp"):
        continue
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = include.match(line)
        if not m:
            continue
        target = m.group(1)
        allowed = (target == "blindrouter/hooks/message_hook.hpp" or target.startswith("blindrouter/wamp/")
                   or target.startswith("plugin/") or (path.parent / target).exists())
        if not allowed:
            breaches.append(f"{path.relative_to(root)}:{number}: plugin includes {target}")

positional = re.compile(r"\.fields\s*(\[|=[^=]|\.at\()|\b(id|dict|string)_at\(")
for directory in ("lib", "plugin", "app"):
    for path in sorted((root / directory).rglob("*")):
        if path.suffix not in (".cpp", ".hpp"):
            continue
        relative = path.relative_to(root).as_posix()
        if relative.startswith("lib/src/codec/") or re.match(r"lib/include/blindrouter/wamp/messages?\.hpp$", relative):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if positional.search(line):
                breaches.append(f"{relative}:{number}: positional message access: {line.strip()}")

log_call = re.compile(r"\bspdlog::(trace|debug|info|warn|error|critical)\(")
client_string = re.compile(r"(^|[.>])(uri|error_uri|topic|procedure|realm|realm_name|authid|authrole|authmethod|reason|"
                           r"message|refusal|problem|text|what)(\(\))?$")


def arguments(source, start):
    """The top-level arguments of the call whose '(' is at source[start - 1]."""
    depth, current, found, quoted = 0, "", [], False
    for i in range(start, len(source)):
        c = source[i]
        if quoted:
            current += c
            quoted = not (c == '"' and source[i - 1] != "\\")
            continue
        if c == '"':
            quoted = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return found + [current.strip()]
            depth -= 1
        elif c == "," and depth == 0:
            found.append(current.strip())
            current = ""
            continue
        current += c
    return found


for directory in ("lib/src/core", "lib/src/auth", "plugin"):
    for path in sorted((root / directory).rglob("*")):
        if path.suffix not in (".cpp", ".hpp"):
            continue
        source = path.read_text()
        for call in log_call.finditer(source):
            for argument in arguments(source, call.end())[1:]:
                if client_string.search(argument) and "log_text(" not in argument:
                    number = source.count("\n", 0, call.start()) + 1
                    breaches.append(f"{path.relative_to(root)}:{number}: client string logged without "
                                    f"wamp::log_text: {argument}")

for breach in breaches:
    print(breach)
print(f"source rules: {'0 breaches' if not breaches else f'{len(breaches)} breaches'}")
sys.exit(1 if breaches else 0)
