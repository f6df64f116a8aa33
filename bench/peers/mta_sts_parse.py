#!/usr/bin/env python3
"""Peer for the policy-body benchmark: postfix-mta-sts-resolver (PyPI) on NUL-separated policy bodies.

For each body it does exactly what `STSResolver.resolve` (resolver.py) does once the HTTPS body is in hand:
decode with the response charset (ASCII, the resolver's default; a decode error is a fetch error), call the
resolver's own `utils.parse_mta_sts_policy`, then the resolver's validation sequence (version == STSv1,
int(max_age) within 0..31557600, mode present and one of none|testing|enforce, at least one mx unless
mode is none) — copied from resolver.py 1.5.1 lines 148-171, since it is inline there. One profile only:
the resolver has no strict/lenient distinction, does not reject duplicate keys, unknown lines or bad MX
patterns. Prints {"bodies", "valid", "seconds"} (the loop only; the file is read first).

Usage (venv python): mta_sts_parse.py [--repeat N] FILE   (seconds covers all N rounds)
"""
import json
import sys
import time

from postfix_mta_sts_resolver.utils import parse_mta_sts_policy


def resolver_accepts(body):
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return False
    pol = parse_mta_sts_policy(text)
    if pol.get('version', None) != 'STSv1':
        return False
    try:
        max_age = int(pol.get('max_age', '-1'))
        pol['max_age'] = max_age
    except ValueError:
        return False
    if not 0 <= max_age <= 31557600:
        return False
    if 'mode' not in pol:
        return False
    if pol['mode'] == 'none':
        return True
    if pol['mode'] not in ('none', 'testing', 'enforce'):
        return False
    if not pol['mx']:
        return False
    return True


def main():
    args = sys.argv[1:]
    repeat = 1
    if len(args) == 3 and args[0] == "--repeat":
        repeat = int(args[1])
        args = args[2:]
    with open(args[0], "rb") as f:
        bodies = f.read().split(b"\0")
    start = time.perf_counter()
    for _ in range(repeat):
        valid = 0
        for body in bodies:
            if resolver_accepts(body):
                valid += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"bodies": len(bodies), "valid": valid, "repeat": repeat, "seconds": seconds}))


if __name__ == "__main__":
    main()
