#!/usr/bin/env python3
"""Print postfix-mta-sts-resolver's own verdict on every txt/policy case of cases.jsonl, one JSON line each.

The verdict comes from the resolver's real code path: `STSResolver.resolve()` (resolver.py), which calls
`filter_text`, `parse_mta_sts_record`, `is_plaintext` and `parse_mta_sts_policy` (utils.py) and then applies
its own validation sequence. Only the two network edges are replaced:

* DNS: `resolver._resolver.query(name, 'TXT')` returns one answer per RR whose `.text` is the RR's
  character-strings joined (bytes; pycares' handling of multi-string RRs is not exercised).
* HTTPS: `aiohttp.ClientSession` is replaced by an in-memory session that serves the case's status,
  Content-Type, Content-Length and body. For `tls` cases it first runs a real TLS handshake in memory with
  Python's `ssl` (OpenSSL's host-name check, as aiohttp uses it) against a self-signed certificate that
  carries the case's DNS names; a failed handshake raises inside the session as aiohttp would.

A txt case is served a valid policy, so only the record decides; a policy case is given the valid record
`v=STSv1; id=peer1`, so only the fetch and the policy decide.

Output per case: {"id", "kind", "result" (STSFetchResult name), "valid", "txtId", "mode", "maxAge", "mx",
"input"} where "input" is exactly what was fed to the resolver (base64), so the Swift side parses the
same bytes: txt → {"rrset": [[b64, ...], ...]}, policy → {"body": b64, "status", "contentType",
"policyHost", "certDnsNames"}.

Usage: mta_sts_resolver_verdicts.py [cases.jsonl]   (run with the venv's python)
"""
import asyncio
import base64
import io
import json
import logging
import os
import ssl
import subprocess
import sys
import tempfile

import aiohttp
from aiohttp.helpers import parse_mimetype

from postfix_mta_sts_resolver import resolver as resolver_module
from postfix_mta_sts_resolver.resolver import STSResolver, STSFetchResult

GOOD_POLICY = b"version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\n"
GOOD_RECORD = b"v=STSv1; id=peer1"


class FakeTXT:
    def __init__(self, text):
        self.text = text


class FakeDNS:
    def __init__(self, records):
        self.records = records

    async def query(self, name, qtype):
        assert qtype == 'TXT'
        return [FakeTXT(r) for r in self.records]


class FakeContent:
    def __init__(self, body):
        self.stream = io.BytesIO(body)

    async def read(self, n=-1):
        return self.stream.read(n)


class FakeResponse:
    def __init__(self, status, content_type, body):
        self.status = status
        self.headers = {'Content-Length': str(len(body))}
        self.charset = None
        if content_type is not None:
            self.headers['Content-Type'] = content_type
            self.charset = parse_mimetype(content_type).parameters.get('charset')
        self.content = FakeContent(body)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


class FakeSession:
    """Stands in for aiohttp.ClientSession; the served response is set per case in `FakeSession.serve`."""
    serve = None

    def __init__(self, *args, **kwargs):
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    def get(self, url, allow_redirects=True, **kwargs):
        assert allow_redirects is False, 'the resolver must not follow redirects'
        status, content_type, body, tls = FakeSession.serve
        if tls is not None:
            tls_handshake(*tls)
        return FakeResponse(status, content_type, body)


def make_certificate(dns_names, directory):
    key = os.path.join(directory, 'key.pem')
    cert = os.path.join(directory, 'cert.pem')
    san = ','.join('DNS:' + n for n in dns_names)
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=peer test', '-addext', 'subjectAltName=' + san],
                   check=True, capture_output=True)
    return cert, key


def tls_handshake(host, dns_names):
    """A real TLS handshake over memory BIOs; raises ssl.SSLCertVerificationError on a name mismatch."""
    with tempfile.TemporaryDirectory() as directory:
        cert, key = make_certificate(dns_names, directory)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        client_ctx = ssl.create_default_context(cafile=cert)
        client_ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=host)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done_client = done_server = False
    for _ in range(20):
        if not done_client:
            try:
                client.do_handshake()
                done_client = True
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        if not done_server:
            try:
                server.do_handshake()
                done_server = True
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
        c_in.write(s_out.read())
        if done_client and done_server:
            return
    raise ssl.SSLError('handshake did not finish')


def b64(data):
    return base64.b64encode(data).decode('ascii')


async def run_case(case, loop):
    res = STSResolver(loop=loop, timeout=5)
    out = {'id': case['id'], 'kind': case['kind']}
    if case['kind'] == 'txt':
        rrset = case.get('rrset') or [[case['input']]]
        rrs = [[s.encode('utf-8') for s in rr] for rr in rrset]
        res._resolver = FakeDNS([b''.join(rr) for rr in rrs])
        FakeSession.serve = (200, 'text/plain', GOOD_POLICY, None)
        domain = 'example.com'
        out['input'] = {'rrset': [[b64(s) for s in rr] for rr in rrs]}
    else:
        body = case['input'].encode('utf-8')
        pad = case.get('pad')
        if pad:
            body += (pad['line_prefix'] + pad['char'] * pad['count'] + '\n').encode('utf-8')
        http = {'status': 200, 'content_type': 'text/plain'}
        http.update(case.get('http', {}))
        tls = case.get('tls')
        domain = 'example.com'
        tls_facts = None
        if tls:
            domain = tls['policy_host'][len('mta-sts.'):]
            tls_facts = ('mta-sts.' + domain, tls['cert_dns_names'])
        res._resolver = FakeDNS([GOOD_RECORD])
        FakeSession.serve = (http['status'], http['content_type'], body, tls_facts)
        out['input'] = {'body': b64(body), 'status': http['status'], 'contentType': http['content_type'],
                        'policyHost': tls['policy_host'] if tls else None,
                        'certDnsNames': tls['cert_dns_names'] if tls else None}
    result, payload = await res.resolve(domain)
    out['result'] = result.name
    out['valid'] = result == STSFetchResult.VALID
    if payload is not None:
        txt_id, policy = payload
        out['txtId'] = txt_id
        out['mode'] = policy.get('mode')
        out['maxAge'] = policy.get('max_age')
        out['mx'] = policy.get('mx')
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'mta-sts-cases', 'cases.jsonl')
    resolver_module.aiohttp.ClientSession = FakeSession
    logging.disable(logging.CRITICAL)  # the resolver logs each fetch failure; stdout carries the data
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    with open(path, encoding='utf-8') as cases:
        for line in cases:
            case = json.loads(line)
            if case['kind'] not in ('txt', 'policy'):
                continue
            print(json.dumps(loop.run_until_complete(run_case(case, loop)), ensure_ascii=True), flush=True)
    loop.close()


if __name__ == '__main__':
    main()
