#!/usr/bin/env python3
"""Peer for the live-observation benchmark: postfix-mta-sts-resolver's own `STSResolver.resolve` (PyPI, 1.5.1)
on the same domains, against the same loopback servers (scripts/testservers), at the same concurrency.

What the resolver does per domain, unchanged: TXT `_mta-sts.<domain>` through aiodns (c-ares), record selection
and parsing, then a fresh aiohttp session GETting https://mta-sts.<domain>/.well-known/mta-sts.txt (certificate
and host name verified, redirects not followed, 64 KiB cap), then its policy parse and checks. Pointed at the test
servers the only ways its code allows, none of which removes work from it:

* aiodns gets the test DNS server as its nameserver (`--dns ADDR:PORT`) — the resolver builds its channel with the
  system's, so the harness replaces `_resolver` with an equal `aiodns.DNSResolver` that has the same timeout;
* aiohttp resolves `mta-sts.<domain>` through a resolver that asks the same test DNS server for its A record
  (what its default getaddrinfo resolver asks the system's) and connects to that address at `--https-port`
  (like our `--connect-to`: the policy URL stays https://mta-sts.<domain>/, port 443, for SNI and the name check);
* `SSL_CERT_FILE` = the test CA (`--ca-file`), set before aiohttp builds its default SSL context.

Concurrency: at most `--concurrency` `resolve()` calls in flight (an asyncio semaphore), as our `--concurrency`.
Prints {"domains", "valid", "fetchError", "none", "seconds"}; seconds covers the resolve loop only (the file is
read and the event loop made first).

Usage (venv python): resolver_live.py --domains FILE --dns ADDR:PORT --https-port PORT --ca-file PEM
                                      [--concurrency N] [--timeout SECONDS]
"""
import argparse
import asyncio
import json
import logging
import os
import socket
import sys
import time
import warnings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", required=True)
    parser.add_argument("--dns", required=True, help="ADDR:PORT of the DNS server")
    parser.add_argument("--https-port", type=int, required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    os.environ["SSL_CERT_FILE"] = args.ca_file  # before aiohttp makes its default context

    import aiodns
    import aiodns.error
    import aiohttp
    import aiohttp.client
    from aiohttp.abc import AbstractResolver
    from postfix_mta_sts_resolver.resolver import STSResolver, STSFetchResult

    logging.basicConfig(level=logging.ERROR)
    warnings.simplefilter("ignore", DeprecationWarning)  # aiodns 4: query() is deprecated; the resolver calls it

    class Loopback(AbstractResolver):
        def __init__(self):
            self.dns = aiodns.DNSResolver(nameservers=[args.dns], timeout=args.timeout)

        async def resolve(self, host, port=0, family=socket.AF_INET):
            try:
                answers = await self.dns.query(host, "A")
            except aiodns.error.DNSError as error:
                raise OSError("cannot resolve %s: %s" % (host, error))
            return [{"hostname": host, "host": a.host, "port": args.https_port, "family": socket.AF_INET,
                     "proto": 0, "flags": socket.AI_NUMERICHOST} for a in answers]

        async def close(self):
            pass

    base = aiohttp.client.TCPConnector

    class LoopbackConnector(base):
        def __init__(self, *a, **kw):
            kw["resolver"] = Loopback()
            super().__init__(*a, **kw)

    aiohttp.client.TCPConnector = LoopbackConnector

    with open(args.domains) as f:
        domains = [line.strip() for line in f if line.strip() and not line.startswith("#")]

    async def run():
        loop = asyncio.get_running_loop()
        resolver = STSResolver(timeout=args.timeout, loop=loop)
        resolver._resolver = aiodns.DNSResolver(nameservers=[args.dns], timeout=args.timeout)
        gate = asyncio.Semaphore(args.concurrency)

        async def one(domain):
            async with gate:
                status, _ = await resolver.resolve(domain)
                return status

        start = time.perf_counter()
        statuses = await asyncio.gather(*(one(d) for d in domains))
        return time.perf_counter() - start, statuses

    seconds, statuses = asyncio.run(run())
    print(json.dumps({"domains": len(domains), "valid": statuses.count(STSFetchResult.VALID),
                      "fetchError": statuses.count(STSFetchResult.FETCH_ERROR),
                      "none": statuses.count(STSFetchResult.NONE), "seconds": seconds}))


if __name__ == "__main__":
    sys.exit(main())
