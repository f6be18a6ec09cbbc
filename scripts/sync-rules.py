#!/usr/bin/env python3
"""Copies infra/auth-rules.json into the authorizer's AUTH_RULES in infra/template.yaml (a test
keeps the two equal; run this after editing the rules)."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
rules = (root / "infra/auth-rules.json").read_text().rstrip("\n")
template_path = root / "infra/template.yaml"
template = template_path.read_text()
indented = "\n".join(("            " + line) if line else line for line in rules.split("\n"))
new, count = re.subn(
    r"(          AUTH_RULES: \|\n)(?:            .*\n)+",
    lambda m: m.group(1) + indented + "\n",
    template,
    count=1,
)
if count != 1:
    raise SystemExit("AUTH_RULES block not found in infra/template.yaml")
template_path.write_text(new)
