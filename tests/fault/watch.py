#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""watch.py: wait until a series of flowrw's /metrics page grows past a value (fault tests).

  watch.py --stats URL --series 'name{labels}' --above V [--timeout S] [--interval 0.01]
           [--start-file F]

Polls every --interval seconds; prints the wall-clock time in ms (like `date +%s%3N`)
of the first scrape that showed the series above V, and the value.  With --start-file,
it first waits (up to --timeout) for F to exist and be non-empty (e.g. a receiver's
port file), and then prints the ms from that moment to the first scrape showing the
growth instead (--above start: growth past the value read at that moment), so the measurement does not include this script's own start-up (slow
on a loaded machine): start it before the event.  Exit 0 then, 1 on timeout.
"""

import argparse
import os
import sys
import time
import urllib.request


def value(url, series):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(series + " "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stats", required=True)
    p.add_argument("--series", required=True)
    p.add_argument("--above", required=True, help="a value, or 'start': the value when --start-file appears")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--start-file")
    a = p.parse_args()
    end = time.monotonic() + a.timeout
    t0 = None
    if a.start_file:
        while time.monotonic() < end:
            try:
                if os.path.getsize(a.start_file) > 0:
                    t0 = time.monotonic()
                    break
            except OSError:
                pass
            time.sleep(0.002)
        if t0 is None:
            print("timeout")
            return 1
        end = t0 + a.timeout
    if a.above == "start":
        above = value(a.stats, a.series)
        if above is None:
            print("no such series")
            return 1
    else:
        above = float(a.above)
    while time.monotonic() < end:
        v = value(a.stats, a.series)
        if v is not None and v > above:
            if t0 is not None:
                print("%d %.0f" % (int((time.monotonic() - t0) * 1000), v))
            else:
                print("%d %.0f" % (int(time.time() * 1000), v))
            return 0
        time.sleep(a.interval)
    print("timeout")
    return 1


if __name__ == "__main__":
    sys.exit(main())
