#!/usr/bin/env python3
"""The deny.toml policy without cargo-deny: licences, sources and wildcard versions, checked
over `cargo metadata` (every package of Cargo.lock, every platform, dev-dependencies included).

.ci/deny runs cargo-deny itself where it is installed; CI machines start without it, and
installing it costs ~4 CPU-minutes, so CI runs this. Advisories need cargo-deny (or cargo-audit)
and network access to the RustSec database.
"""
import json
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def satisfied(expression, allowed):
    """Whether an SPDX expression (OR, AND, WITH, parentheses; old-style `A/B`) is met by
    licences in `allowed`. `WITH` exceptions only narrow a licence, so `A WITH X` needs A."""
    tokens = re.findall(r"\(|\)|[A-Za-z0-9.+-]+", expression.replace("/", " OR "))
    at = 0

    def peek():
        return tokens[at] if at < len(tokens) else None

    def take():
        nonlocal at
        at += 1
        return tokens[at - 1]

    def primary():
        if peek() == "(":
            take()
            value = either()
            if take() != ")":
                raise ValueError(expression)
            return value
        licence = take()
        if peek() == "WITH":
            take()
            take()
        return licence in allowed

    def both():
        value = primary()
        while peek() == "AND":
            take()
            value = primary() and value
        return value

    def either():
        value = both()
        while peek() == "OR":
            take()
            value = both() or value
        return value

    value = either()
    if at != len(tokens):
        raise ValueError(expression)
    return value


def main():
    root = Path(__file__).resolve().parent.parent
    policy = tomllib.loads((root / "deny.toml").read_text())
    allowed = set(policy["licenses"]["allow"])
    registries = {"registry+" + r for r in policy["sources"]["allow-registry"]}
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = set(metadata["workspace_members"])
    errors, used, versions = [], set(), defaultdict(set)
    for p in metadata["packages"]:
        name = f"{p['name']} {p['version']}"
        versions[p["name"]].add(p["version"])
        if p["source"] is not None and p["source"] not in registries:
            errors.append(f"{name}: source {p['source']} is not allowed")
        if p["id"] in members:
            for d in p["dependencies"]:
                if d["req"] == "*" and d.get("path") is None:
                    errors.append(f"{name}: wildcard version for {d['name']}")
            if p.get("publish") == [] or p["license"] is None:
                continue  # private workspace crates ([licenses.private] ignore)
        licence = p["license"]
        if licence is None:
            errors.append(f"{name}: no licence field")
        elif not satisfied(licence, allowed):
            errors.append(f"{name}: licence {licence!r} is not in deny.toml's allow list")
        else:
            used |= {t for t in re.findall(r"[A-Za-z0-9.+-]+", licence) if t in allowed}
    for licence in sorted(allowed - used):
        print(f"deny policy: warning: allowed licence {licence} is not used")
    duplicates = sorted(n for n, v in versions.items() if len(v) > 1)
    if duplicates:
        print(f"deny policy: warning: several versions of {', '.join(duplicates)}")
    for e in errors:
        print(f"deny policy: error: {e}")
    packages = len(metadata["packages"])
    verdict = "ok" if not errors else f"{len(errors)} errors"
    print(f"deny policy: {packages} packages: licences, sources, wildcards {verdict}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
