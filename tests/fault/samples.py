#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""samples.py: the sample accounting of flowrw's fault tests (python3 standard library only).

A sample is a series (its labels) plus a timestamp.  The expected samples come from the
DeepFlow JSON rows by the e2e oracle's rules (tests/e2e/expect.py); what arrived comes
from flowrw-receiver --dump files and/or rw-testsrv --log files (2xx answers only count
as delivered there).  Keys are kept as 64-bit hashes so millions of samples fit in memory.

Subcommands:
  compare --rows F [--rows F]... --data-sources A,B [--dump F]... [--testsrv-log F]...
          [--max-lost N]
      prints "expected= received= unique= lost= duplicated= unexpected= wrong_value="
      (one line, key=value) and a few examples of each problem on stderr.
      Exit 0 when lost <= max-lost (default 0), nothing unexpected and no wrong value.
  storm --testsrv-log F
      for rw-testsrv logs: per status class the samples answered, how many samples
      answered 400 were ever sent again, and per-series order among 2xx answers.
Exit status: 0 ok, 1 a check failed, 2 usage or I/O error.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import expect  # noqa: E402  (the e2e oracle)


_NEEDS_ESC = re.compile(r'[\\"\x00-\x1f\x7f]')


def esc(v):
    """expect.esc, with a fast path for the common case (nothing to escape)."""
    return expect.esc(v) if _NEEDS_ESC.search(v) else v


def series_key(labels):
    """expect.series_key, faster."""
    name = labels.get("__name__")
    body = "{" + ",".join('%s="%s"' % (esc(n), esc(v)) for n, v in sorted(labels.items())
                          if n != "__name__") + "}"
    return body if name is None else esc(name) + body


def expected_samples(paths, data_sources):
    """Yield (key TAB ts, value) for every expected sample."""
    dss = set(data_sources)
    for path in paths:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                if not line.strip():
                    continue
                row = expect.json.loads(line)
                ds = row.get("datasource")
                if ds not in dss:
                    continue
                fam = expect.family_of(ds)
                labels = {"datasource": ds}
                for fl in expect.TAGS:
                    if fam in fl.fams:
                        v = expect.label_value(row.get(fl.kafka_key(fam)))
                        if v is not None:
                            labels[fl.label(fam)] = v
                body = series_key(labels)              # "{a="x",...}" (no name)
                ts = int(row["time"]) * 1000
                for m in expect.METRICS:
                    if fam in m.fams and m.json in row:
                        yield "%s%s\t%d" % (esc(m.json), body, ts), float(row[m.json])


def expected_hashes(paths, data_sources):
    """hash(key TAB ts) -> value for every expected sample (keys are rebuilt for examples)."""
    return {hash(k): v for k, v in expected_samples(paths, data_sources)}


def read_dump(path):
    """flowrw-receiver --dump: key TAB ts TAB value."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                kt, _, v = line.rpartition("\t")
                yield kt, v


_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def testsrv_key(labels_text):
    """rw-testsrv's label list (request order, raw values) -> the dump's series key."""
    labels = dict(_LABEL.findall(labels_text))
    return series_key(labels)


def read_testsrv(path, only_2xx=True):
    """rw-testsrv --log: REQ STATUS TS VALUE LABELS -> (key TAB ts, value, status, req)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 4)
            if len(parts) < 5:
                continue
            status = int(parts[1])
            if only_2xx and not 200 <= status < 300:
                continue
            yield "%s\t%s" % (testsrv_key(parts[4]), parts[2]), parts[3], status, int(parts[0])


def cmd_compare(a):
    want = expected_hashes(a.rows, a.data_sources.split(","))
    seen = {}
    received = unexpected = wrong = 0
    ex_unexp, ex_wrong = [], []

    def take(kt, v):
        nonlocal received, unexpected, wrong
        received += 1
        h = hash(kt)
        w = want.get(h, None)
        if w is None:
            unexpected += 1
            if len(ex_unexp) < 5:
                ex_unexp.append(kt[:200])
            return
        if not expect.same_value(w, float(v)):
            wrong += 1
            if len(ex_wrong) < 5:
                ex_wrong.append("%s = %s, want %r" % (kt[:200], v, w))
        seen[h] = seen.get(h, 0) + 1

    for d in a.dump or ():
        for kt, v in read_dump(d):
            take(kt, v)
    for t in a.testsrv_log or ():
        for kt, v, _, _ in read_testsrv(t):
            take(kt, v)
    lost = sum(1 for h in want if h not in seen)
    dup = sum(c - 1 for c in seen.values())
    print("expected=%d received=%d unique=%d lost=%d duplicated=%d unexpected=%d wrong_value=%d"
          % (len(want), received, len(seen), lost, dup, unexpected, wrong))
    if lost:
        shown = 0
        for k, _ in expected_samples(a.rows, a.data_sources.split(",")):
            if hash(k) not in seen:
                print("  lost: %s" % k[:200], file=sys.stderr)
                shown += 1
                if shown == 5:
                    break
    for k in ex_unexp:
        print("  unexpected: %s" % k, file=sys.stderr)
    for k in ex_wrong:
        print("  wrong value: %s" % k, file=sys.stderr)
    ok = lost <= a.max_lost and not unexpected and not wrong
    return 0 if ok else 1


def cmd_storm(a):
    by_status = {}
    first_status = {}      # sample -> status classes in order of answers
    resent_after_400 = 0
    last_ts = {}
    order_violations = dup_2xx = 0
    delivered = set()
    rejected = set()
    for kt, v, status, req in read_testsrv(a.testsrv_log, only_2xx=False):
        by_status[status] = by_status.get(status, 0) + 1
        h = hash(kt)
        if h in rejected:
            resent_after_400 += 1
        if status == 400:
            rejected.add(h)
        if 200 <= status < 300:
            if h in delivered:
                dup_2xx += 1
            delivered.add(h)
            key, _, ts = kt.rpartition("\t")
            ts = int(ts)
            hk = hash(key)
            if ts < last_ts.get(hk, -1):
                order_violations += 1
            last_ts[hk] = max(ts, last_ts.get(hk, -1))
        first_status.setdefault(h, status)
    both = len(rejected & delivered)
    print(" ".join("status_%d=%d" % (s, n) for s, n in sorted(by_status.items())) +
          " delivered=%d rejected=%d resent_after_400=%d rejected_and_delivered=%d "
          "duplicated_2xx=%d order_violations=%d"
          % (len(delivered), len(rejected), resent_after_400, both, dup_2xx, order_violations))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--rows", action="append", required=True)
    c.add_argument("--data-sources", required=True)
    c.add_argument("--dump", action="append")
    c.add_argument("--testsrv-log", action="append")
    c.add_argument("--max-lost", type=int, default=0)
    s = sub.add_parser("storm")
    s.add_argument("--testsrv-log", required=True)
    a = p.parse_args()
    try:
        return cmd_compare(a) if a.cmd == "compare" else cmd_storm(a)
    except OSError as e:
        print("samples.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
