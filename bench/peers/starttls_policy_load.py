#!/usr/bin/env python3
"""Peer for the ingest benchmark: the publisher's consumer, starttls-policy-cli (PyPI), loading list files.

Runs `policy.Config(filename=F).load()` for every file in one Python process (files read from disk by the
CLI itself, as it does in production) and prints one JSON object: files, loaded, failed, seconds (the
loop only; interpreter start-up and imports are excluded, as our in-memory reader excludes process start).

What that load validates: JSON syntax (Python's json, which keeps the last of duplicated keys silently),
`timestamp`/`expires` present and parseable by dateutil, `author` a string, each policy's `mode` in
testing|enforce, `mxs` a list of strings, `min-tls-version`, `pin`/`policy-alias` references defined
(aliases must be set before policies). What it does not: `version`, unknown keys at any level, the MX
pattern syntax, domain-name syntax, duplicate keys, byte offsets in errors, `expires` after `timestamp`.

Usage (venv python): starttls_policy_load.py [--repeat N] FILE...
"""
import collections
import collections.abc
import json
import sys
import time

for name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):
    if not hasattr(collections, name):
        setattr(collections, name, getattr(collections.abc, name))

from starttls_policy_cli import policy  # noqa: E402


def main():
    args = sys.argv[1:]
    repeat = 1
    if args[:1] == ["--repeat"]:
        repeat, args = int(args[1]), args[2:]
    loaded = failed = 0
    start = time.perf_counter()
    for _ in range(repeat):
        loaded = failed = 0
        for path in args:
            try:
                policy.Config(filename=path).load()
                loaded += 1
            except Exception:  # noqa: BLE001 - a failed file is a counted outcome, as in our reader
                failed += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"files": len(args), "loaded": loaded, "failed": failed, "repeat": repeat,
                      "seconds": seconds}))


if __name__ == "__main__":
    main()
