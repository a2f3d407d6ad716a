#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""killer.py: SIGKILL a flowrw supervisor's children at random moments (fault tests).

Only children of the given supervisor pid are signalled (found through /proc), never
processes found by name elsewhere on the machine.

  killer.py --supervisor PID --stats URL --kills N [--roles flowrw-ingest,flowrw-enc0,...]
            [--min-up 1.1] [--max-pause 0.4] [--seconds 240] [--seed S]

Roles are chosen at random among the least-killed ones, after a random pause; a child
is killed only once it has run --min-up seconds (so the restart backoff stays at its
minimum).  Per kill: the time until a new child of that name exists (measured from the
new process' start time in /proc, so the poller's own latency does not count), and the
change of flowrw_process_restarts_total for the role.  Prints one line per kill and a
summary line "kills=N ingest=.. ... worst_ms=.. late=.. miscounted=.. missing=..".
Exit 0 when every role got N kills, each child was back within --max-back-ms and every
restart was counted; 1 otherwise.
"""

import argparse
import os
import random
import signal
import sys
import time
import urllib.request

HZ = os.sysconf("SC_CLK_TCK")


def uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def stat_of(pid):
    """(comm, state, ppid, starttime in s since boot) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[1]), int(rest[19]) / HZ


def children(sup):
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        st = stat_of(int(d))
        if st and st[2] == sup and st[1] != "Z":
            out.setdefault(st[0], []).append((int(d), st[3]))
    return out


def metric(url, series):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(series + " "):
                    return int(float(line.split()[1]))
    except OSError:
        return None
    return None


def restarts_series(name):
    if name == "flowrw-ingest":
        return 'flowrw_process_restarts_total{role="ingest"}'
    if name == "flowrw-sender":
        return 'flowrw_process_restarts_total{role="sender"}'
    return 'flowrw_process_restarts_total{role="encoder",index="%s"}' % name[len("flowrw-enc"):]


def alive(pid):
    st = stat_of(pid)
    return st is not None and st[1] != "Z"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--supervisor", type=int, required=True)
    p.add_argument("--stats", required=True)
    p.add_argument("--kills", type=int, required=True)
    p.add_argument("--roles", default="flowrw-ingest,flowrw-enc0,flowrw-enc1,flowrw-sender")
    p.add_argument("--min-up", type=float, default=1.1)
    p.add_argument("--max-pause", type=float, default=0.4)
    p.add_argument("--max-back-ms", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=240)
    p.add_argument("--seed", type=int)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    roles = a.roles.split(",")
    killed = {r: 0 for r in roles}
    worst = late = miscounted = missing = 0
    backs = []
    t_end = time.monotonic() + a.seconds
    t0 = time.monotonic()
    ended = ""
    while time.monotonic() < t_end:
        if not alive(a.supervisor):
            ended = "supervisor exited"
            break
        low = min(killed.values())
        if low >= a.kills:
            break
        cand = [r for r in roles if killed[r] == low]
        time.sleep(rnd.uniform(0.02, a.max_pause))
        kids = children(a.supervisor)
        # prefer a candidate that has run long enough
        ready = [r for r in cand if r in kids and uptime() - max(s for _, s in kids[r]) >= a.min_up]
        if not ready:
            continue
        role = rnd.choice(ready)
        pid = max(kids[role], key=lambda x: x[1])[0]
        before = metric(a.stats, restarts_series(role))
        t_kill = uptime()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed[role] += 1
        n = sum(killed.values())
        new = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for cpid, start in children(a.supervisor).get(role, []):
                if cpid != pid:
                    new = (cpid, start)
            if new or not alive(a.supervisor):
                break
            time.sleep(0.005)
        if not new:
            missing += 1
            print("kill %d at +%.1fs: %s (pid %d) NOT back within 5 s" % (n, time.monotonic() - t0, role, pid),
                  flush=True)
            continue
        back_ms = max(0, int(round((new[1] - t_kill) * 1000)))
        backs.append(back_ms)
        worst = max(worst, back_ms)
        after = None
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            after = metric(a.stats, restarts_series(role))
            if after is not None and before is not None and after >= before + 1:
                break
            time.sleep(0.02)
        counted = after is not None and before is not None and after == before + 1
        if not counted:
            miscounted += 1
        if back_ms > a.max_back_ms:
            late += 1
        print("kill %d at +%.1fs: %s (pid %d) back in %d ms as pid %d; restarts %s -> %s%s"
              % (n, time.monotonic() - t0, role, pid, back_ms, new[0], before, after,
                 "" if counted and back_ms <= a.max_back_ms else "  <-- FAIL"), flush=True)
    short = [r for r in roles if killed[r] < a.kills]
    mean = sum(backs) / len(backs) if backs else 0
    print("kills=%d %s seconds=%.1f worst_ms=%d mean_ms=%.0f late=%d miscounted=%d missing=%d short=%s%s"
          % (sum(killed.values()), " ".join("%s=%d" % (r.replace("flowrw-", ""), killed[r]) for r in roles),
             time.monotonic() - t0, worst, mean, late, miscounted, missing, ",".join(short) or "none",
             (" ended=" + ended.replace(" ", "_")) if ended else ""), flush=True)
    return 0 if not short and not late and not miscounted and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
