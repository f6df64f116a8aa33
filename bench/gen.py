#!/usr/bin/env python3
"""Deterministic synthetic inputs for `bench/run` (Python 3 stdlib only).

Every generator takes a seed; the same seed and size give the same bytes on every machine and Python 3
version (only `random.Random(seed).random()` / `getrandbits()` are used, whose sequence Python keeps
stable across releases; no hash-ordered sets or dicts are iterated).

  gen.py list --seed S (--bytes B | --domains N) [--compact] OUT
        a schema-0.1 policy.json: publisher style (json.dumps(indent=2)) or one line (--compact);
        about 70 % alias references, 30 % explicit entries, 15 % of them `enforce`.
  gen.py policies --seed S --count N OUT
        N MTA-STS policy bodies separated by NUL bytes: about 70 % strictly valid, the rest invalid or
        only leniently valid in the ways deployed policies are (CRLF/LF mixes, missing keys, bad max_age,
        unknown modes, duplicate keys, non-ASCII, empty bodies, oversize lines).
  gen.py observations --seed S --count N [--domains D] [--start EPOCH] [--step SECONDS] OUT
        N native observation JSONL lines (DESIGN.md) over domains d0000000.bench.test …; line i observes
        domain i mod D at START + (i div D) * STEP, so (domain, observedAt, source) never repeats.
        D defaults to N. Mix: valid enforce / testing / none, NXDOMAIN, NODATA, 404, timeouts, invalid bodies.
        OUT may be `-` (stdout).
"""
import argparse
import json
import random
import sys
import time

ALIASES = {
    "google": ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com",
               "alt3.aspmx.l.google.com", "alt4.aspmx.l.google.com"],
    "icloud": ["mx1.mail.icloud.com", "mx2.mail.icloud.com", ".mail.icloud.com"],
    "outlook": [".olc.protection.outlook.com", ".mail.protection.outlook.com"],
    "yahoo": [".am0.yahoodns.net", "mta5.am0.yahoodns.net", "mta6.am0.yahoodns.net"],
}
ALIAS_NAMES = sorted(ALIASES)
TLDS = ["com", "net", "org", "de", "fr", "nl", "io", "ch", "se", "uk"]


def domain(i):
    """The i-th synthetic domain: stable, unique, lower-case LDH."""
    return "d%07d.%s" % (i, TLDS[i % len(TLDS)])


def pick(rng, items):
    return items[int(rng.random() * len(items))]


# ---------------------------------------------------------------------------------------------------------
# policy.json


def list_entries(rng, i, compact):
    """One `"domain": {...}` member in the publisher's indent=2 style (or compact)."""
    name = domain(i)
    roll = rng.random()
    if roll < 0.70:
        body = {"policy-alias": pick(rng, ALIAS_NAMES)}
    else:
        mode = "enforce" if rng.random() < 0.15 else "testing"
        count = 1 + int(rng.random() * 3)
        mxs = ["." + name] if rng.random() < 0.5 else []
        mxs += ["mx%d.%s" % (k + 1, name) for k in range(count - len(mxs))]
        body = {"mode": mode, "mxs": mxs}
    text = json.dumps({name: body}, separators=(",", ":")) if compact else json.dumps({name: body}, indent=2)
    # Strip the braces of the one-member object: what is left is the member.
    if compact:
        return text[1:-1]
    inner = text[2:-2]  # "{\n" … "\n}"
    return "\n".join("  " + line for line in inner.split("\n"))


def gen_list(args):
    rng = random.Random(args.seed)
    head = {
        "timestamp": "2020-05-20T10:25:12.710034-07:00",
        "expires": "2020-06-03T10:25:12.710055-07:00",
        "version": "0.1",
        "author": "policylist bench (synthetic)",
        "policy-aliases": {name: {"mode": "testing", "mxs": ALIASES[name]} for name in ALIAS_NAMES},
    }
    out = open(args.out, "w", encoding="ascii", newline="\n")
    if args.compact:
        prefix = json.dumps(head, separators=(",", ":"))[:-1] + ',"policies":{'
        sep, close = ",", "}}"
    else:
        prefix = json.dumps(head, indent=2)[:-2] + ',\n  "policies": {\n'
        sep, close = ",\n", "\n  }\n}"
    out.write(prefix)
    written = len(prefix)
    i = 0
    while True:
        if args.domains is not None and i >= args.domains:
            break
        if args.bytes is not None and written >= args.bytes:
            break
        member = list_entries(rng, i, args.compact)
        if i:
            out.write(sep)
            written += len(sep)
        out.write(member)
        written += len(member)
        i += 1
    out.write(close)
    out.close()
    print(json.dumps({"domains": i, "bytes": written + len(close)}))


# ---------------------------------------------------------------------------------------------------------
# MTA-STS policy bodies


def policy_body(rng, i):
    """One body (bytes) and nothing else; the mix is documented in the module docstring."""
    name = domain(i)
    nl = "\r\n" if rng.random() < 0.5 else "\n"
    mode = pick(rng, ["enforce", "enforce", "testing", "none"])
    max_age = pick(rng, [86400, 604800, 1209600, 31557600])
    mxs = ["mx%d.%s" % (k + 1, name) for k in range(1 + int(rng.random() * 3))]
    if rng.random() < 0.3:
        mxs.append("*." + name)
    lines = ["version: STSv1", "mode: " + mode] + ["mx: " + mx for mx in mxs] + ["max_age: %d" % max_age]
    roll = rng.random()
    if roll < 0.70:
        pass  # valid
    elif roll < 0.73:
        lines = lines[1:]  # no version
    elif roll < 0.76:
        lines[-1] = "max_age: 63072000"  # out of range
    elif roll < 0.78:
        lines[-1] = "max_age: -1"
    elif roll < 0.80:
        lines[1] = "mode: enforcing"  # unknown mode
    elif roll < 0.82:
        lines = [line for line in lines if not line.startswith("mx:")]  # no mx
    elif roll < 0.84:
        lines.insert(2, "mode: testing")  # duplicate key
    elif roll < 0.86:
        lines = [line + " " for line in lines]  # trailing whitespace (lenient)
    elif roll < 0.88:
        lines[0] = "version:STSv1"  # no space (lenient)
    elif roll < 0.90:
        lines.append("# comment")  # not key: value
    elif roll < 0.92:
        lines[2] = "mx: m\u00e4il.%s" % name  # non-ASCII host
    elif roll < 0.94:
        lines.append("extension_key: some value")  # allowed extension
    elif roll < 0.96:
        return b""
    elif roll < 0.98:
        lines[1] = "Mode: " + mode  # wrong case key
    else:
        lines.append("mx: " + "x" * 300 + "." + name)  # over-long label
    body = nl.join(lines)
    if rng.random() < 0.8:
        body += nl
    return body.encode("utf-8")


def gen_policies(args):
    rng = random.Random(args.seed)
    total = 0
    with open(args.out, "wb") as out:
        for i in range(args.count):
            body = policy_body(rng, i)
            if i:
                out.write(b"\0")
            out.write(body)
            total += len(body)
    print(json.dumps({"bodies": args.count, "bytes": total}))


# ---------------------------------------------------------------------------------------------------------
# native observation JSONL

SHARED_BODIES = [
    "version: STSv1\nmode: enforce\nmx: aspmx.l.google.com\nmx: *.aspmx.l.google.com\nmax_age: 604800\n",
    "version: STSv1\nmode: testing\nmx: *.mail.protection.outlook.com\nmax_age: 86400\n",
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.mail.icloud.com\r\nmx: *.mail.icloud.com\r\nmax_age: 1209600\r\n",
]


def observation_line(rng, name, observed_at):
    roll = rng.random()
    txt_ok = '{"status":"ok","records":[["v=STSv1; id=%d"]]}' % (int(rng.random() * 10**9))
    if roll < 0.55:
        mode = "enforce" if rng.random() < 0.7 else "testing"
        if rng.random() < 0.4:
            body = pick(rng, SHARED_BODIES)
        else:
            body = "version: STSv1\nmode: %s\nmx: mx1.%s\nmx: *.%s\nmax_age: 604800\n" % (mode, name, name)
        txt, policy = txt_ok, {"status": "ok", "httpStatus": 200, "contentType": "text/plain", "body": body}
    elif roll < 0.60:
        body = "version: STSv1\nmode: none\nmax_age: 86400\n"
        txt, policy = txt_ok, {"status": "ok", "httpStatus": 200, "contentType": "text/plain", "body": body}
    elif roll < 0.65:
        body = "version: STSv1\nmode: enforce\nmx: mx1.%s\nmax_age: 63072000\n" % name
        txt, policy = txt_ok, {"status": "ok", "httpStatus": 200, "contentType": "text/plain", "body": body}
    elif roll < 0.80:
        txt, policy = '{"status":"nxdomain","records":[]}', {"status": "error", "error": "no TXT record"}
    elif roll < 0.85:
        txt, policy = '{"status":"nodata","records":[]}', {"status": "error", "error": "no TXT record"}
    elif roll < 0.92:
        txt, policy = txt_ok, {"status": "http-status", "httpStatus": 404, "contentType": "text/html",
                               "body": "<html>not found</html>"}
    else:
        txt, policy = '{"status":"timeout","records":[]}', {"status": "timeout", "error": "timed out after 10s"}
    return '{"domain":"%s","observedAt":"%s","source":"bench","txt":%s,"policy":%s}\n' % (
        name, observed_at, txt, json.dumps(policy, separators=(",", ":")))


def gen_observations(args):
    rng = random.Random(args.seed)
    domains = args.domains or args.count
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n")
    write = out.write
    buffer = []
    for i in range(args.count):
        name = domain(i % domains)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(args.start + (i // domains) * args.step))
        buffer.append(observation_line(rng, name, stamp))
        if len(buffer) >= 10000:
            write("".join(buffer))
            buffer.clear()
    write("".join(buffer))
    if out is not sys.stdout:
        out.close()
        print(json.dumps({"lines": args.count, "domains": domains}))
    else:
        out.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("list")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bytes", type=int)
    p.add_argument("--domains", type=int)
    p.add_argument("--compact", action="store_true")
    p.add_argument("out")
    p = sub.add_parser("policies")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("out")
    p = sub.add_parser("observations")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--domains", type=int)
    p.add_argument("--start", type=int, default=1704067200)  # 2024-01-01T00:00:00Z
    p.add_argument("--step", type=int, default=86400)
    p.add_argument("out")
    args = parser.parse_args()
    if args.what == "list" and (args.bytes is None) == (args.domains is None):
        parser.error("list: give exactly one of --bytes and --domains")
    {"list": gen_list, "policies": gen_policies, "observations": gen_observations}[args.what](args)


if __name__ == "__main__":
    main()
