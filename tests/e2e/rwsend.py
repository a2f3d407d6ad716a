#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rwsend.py: a minimal remote-write 1.0 sender (python3 stdlib) to test the test harness itself.

It sends the samples of an expect.py file (key TAB ts TAB value) to a URL, so the
oracle (expect.py), flowrw-receiver and the Prometheus/VictoriaMetrics queries can be
checked against a known-good sender before flowrw is involved. Snappy is written in
literal-only form, which every snappy decoder must accept.

usage: rwsend.py SAMPLES URL [--batch N] [--chunked] [--break RULE]
  --break unsorted|empty-value|no-name|out-of-order|headers   send that violation on purpose
"""

import argparse
import http.client
import os
import struct
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expect  # noqa: E402


def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def label(name, value):
    return field_bytes(1, name.encode("utf-8", "surrogateescape")) + \
        field_bytes(2, value.encode("utf-8", "surrogateescape"))


def sample(value, ts):
    return b"\x09" + struct.pack("<d", value) + b"\x10" + varint(ts)


def timeseries(labels, samples):
    body = b"".join(field_bytes(1, label(n, v)) for n, v in labels)
    body += b"".join(field_bytes(2, sample(v, ts)) for ts, v in samples)
    return field_bytes(1, body)


def snappy_literal(data):
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes((60 << 2, n))
        else:
            out += bytes((61 << 2,)) + struct.pack("<H", n)
        out += chunk
    return bytes(out)


def requests(samples, batch, brk):
    series = []
    for key in sorted(samples):
        labels = sorted(expect.parse_key(key).items())
        ss = sorted(samples[key])
        if brk == "unsorted" and len(labels) > 1:
            labels = labels[::-1]
        elif brk == "empty-value":
            labels = labels + [("zz_empty", "")]
        elif brk == "no-name":
            labels = [lv for lv in labels if lv[0] != "__name__"]
        elif brk == "out-of-order":
            ss = ss[::-1]
        series.append((labels, ss))
    # One sample per series per request, oldest first, like flowrw: order holds across requests.
    rounds = max(len(s[1]) for s in series)
    pending = []
    for r in range(rounds):
        for labels, ss in series:
            if r < len(ss):
                pending.append(timeseries(labels, [ss[r]]))
                if len(pending) == batch:
                    yield b"".join(pending)
                    pending = []
    if pending:
        yield b"".join(pending)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("samples")
    p.add_argument("url")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--chunked", action="store_true")
    p.add_argument("--break", dest="brk",
                   choices=("unsorted", "empty-value", "no-name", "out-of-order", "headers"))
    a = p.parse_args()
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
    headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
               "X-Prometheus-Remote-Write-Version": "0.1.0", "User-Agent": "rwsend.py/1"}
    if a.brk == "headers":
        headers = {"Content-Encoding": "snappy", "Content-Type": "application/octet-stream"}
    n = 0
    for raw in requests(expect.read_samples(a.samples), a.batch, a.brk):
        body = snappy_literal(raw)
        if a.chunked:
            # uneven chunk sizes, so chunk boundaries fall anywhere
            parts = [body[i:i + 777] for i in range(0, len(body), 777)]
            conn.request("POST", u.path, body=iter(parts), headers=headers, encode_chunked=True)
        else:
            conn.request("POST", u.path, body=body, headers=headers)
        r = conn.getresponse()
        text = r.read()
        if r.status // 100 != 2:
            print("rwsend: request %d: HTTP %d: %s" % (n + 1, r.status, text[:300].decode("utf-8", "replace")))
            return 1
        n += 1
    print("rwsend: %d requests sent" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
