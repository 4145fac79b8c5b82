#!/usr/bin/env python3
"""The workspace's rust-version must be honest: no package the lockfile
resolves may declare a newer one. (Only stable and nightly toolchains can be
installed here, so the std APIs hawser uses are checked by clippy's
incompatible_msrv lint, which reads the same rust-version.)"""
import json
import subprocess
import sys

meta = json.loads(subprocess.check_output(
    ["cargo", "metadata", "--format-version", "1", "--locked"]))
members = set(meta["workspace_members"])
def version(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))
ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
if len(ours) != 1 or None in ours:
    sys.exit(f"workspace members disagree on rust-version: {ours}")
msrv = ours.pop()
newer = [(p["name"], p["version"], p["rust_version"]) for p in meta["packages"]
         if p["id"] not in members and p.get("rust_version")
         and version(p["rust_version"]) > version(msrv)]
if newer:
    sys.exit(f"rust-version {msrv} is not true; these need more: {newer}")
print(f"rust-version {msrv}: every locked dependency builds with it")
