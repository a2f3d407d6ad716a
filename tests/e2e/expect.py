#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""expect.py: the oracle of flowrw's end-to-end tests (python3 standard library only).

It derives the series flowrw must write from DeepFlow JSON rows, by the rules of
spec/json-keys-to-labels.md and spec/deepflow-exporter.md sections 1.5, 1.6 and
2.2-2.4 (label names, translated values passed through, numbers in decimal, empty
values omitted, one series per metric, timestamp = time x 1000), and compares
them with what a receiver stored.

Subcommands:
  shift IN OUT [--now S]          copy rows, moving their time to the last minutes (aligned)
  series --rows F --data-sources A,B [--export-fields X,Y] [--filter 'FIELD OP V1,V2']...
         [--export-empty-metrics-disabled] [--out F]
                                  expected samples, one line each: key TAB ts_ms TAB value
  check-dump EXPECTED DUMP        compare with a flowrw-receiver --dump file
  check-prometheus EXPECTED URL [--wait S]   compare with Prometheus' TSDB (HTTP API)
  check-victoria EXPECTED URL [--wait S]     compare with VictoriaMetrics (/api/v1/export)
  check-sane DUMP --data-source DS [--min-series N] [--since-ms T]
                                  rows we did not write ourselves (synthetic): plausible series
Series keys look like name{a="x",b="y"} with labels sorted by name and values escaped
as flowrw-receiver does (\\ \" \n \t \r, \\xHH for other control bytes).
Exit status: 0 match, 1 mismatch, 2 usage or I/O error.
"""

import argparse
import collections
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# --- the DeepFlow schema as the exporter sees it ---------------------------------

N, NM, A, AM = "network", "network_map", "application", "application_map"
ALL = (N, NM, A, AM)
MAPS = (NM, AM)

TAG_SUBS = ("flow_info", "universal_tag", "native_tag", "network_layer", "tunnel_info",
            "transport_layer", "application_layer", "service_info", "tracing_info",
            "capture_info", "data_link_layer")          # event_info is not part of $tag
METRIC_SUBS = ("l3_throughput", "l4_throughput", "tcp_slow", "tcp_error", "application",
               "throughput", "error", "delay")
ALL_SUBS = TAG_SUBS + ("event_info",) + METRIC_SUBS

UTAGS = ("l3_epc_id", "l3_device_id", "l3_device_type", "region_id", "subnet_id", "host_id",
         "pod_node_id", "az_id", "pod_group_id", "pod_ns_id", "pod_id", "pod_cluster_id",
         "service_id", "auto_instance_id", "auto_instance_type", "auto_service_id",
         "auto_service_type", "gprocess_id")


class Field:
    def __init__(self, json_name, map_json, cat, sub, fams, utag=False):
        self.json = json_name      # DeepFlow json name; filters bind to it
        self.map_json = map_json   # name in map families, or None
        self.cat = cat             # "tag" or "metric"
        self.sub = sub             # sub-category or None
        self.fams = fams
        self.utag = utag           # universal tag: Kafka key drops the first "_id"

    def label(self, fam):
        return self.map_json if fam in MAPS and self.map_json else self.json

    def kafka_key(self, fam):
        name = self.label(fam)
        return name.replace("_id", "", 1) if self.utag else name


def _tags():
    t = [Field("thread_id", None, "tag", None, ALL),
         Field("ip4", "ip4_0", "tag", "network_layer", ALL)]
    t += [Field(u, u + "_0", "tag", "universal_tag", ALL, utag=True) for u in UTAGS]
    t += [Field("ip4_1", None, "tag", "network_layer", MAPS)]
    t += [Field(u + "_1", None, "tag", "universal_tag", MAPS, utag=True) for u in UTAGS]
    t += [Field("role", None, "tag", "capture_info", (N, A)),
          Field("protocol", None, "tag", "network_layer", ALL),
          Field("server_port", None, "tag", "transport_layer", ALL),
          Field("agent_id", None, "tag", "capture_info", ALL, utag=True),
          Field("org_id", None, "tag", None, ALL),
          Field("team_id", None, "tag", None, ALL),
          Field("capture_nic", None, "tag", "capture_info", MAPS),
          Field("capture_nic_type", None, "tag", "capture_info", MAPS),
          Field("nat_source", None, "tag", "capture_info", MAPS),
          Field("tunnel_type", None, "tag", "tunnel_info", MAPS),
          Field("observation_point", None, "tag", "capture_info", MAPS),
          Field("capture_network_type_id", None, "tag", "capture_info", ALL),
          Field("is_ipv4", None, "tag", "network_layer", ALL),
          Field("l7_protocol", None, "tag", "application_layer", (A, AM)),
          Field("app_service", None, "tag", "service_info", (A, AM)),
          Field("app_instance", None, "tag", "service_info", (A, AM)),
          Field("endpoint", None, "tag", "service_info", (A, AM)),
          Field("biz_type", None, "tag", "capture_info", (A, AM)),
          Field("signal_source", None, "tag", "capture_info", ALL)]
    return t


def _metrics():
    groups = [
        ("l3_throughput", "packet_tx packet_rx byte_tx byte_rx l3_byte_tx l3_byte_rx"),
        ("l4_throughput", "l4_byte_tx l4_byte_rx new_flow closed_flow"),
        ("application", "l7_request l7_response"),
        ("l4_throughput", "syn_count synack_count direction_score"),
        ("delay", "rtt_max rtt_client_max rtt_server_max srt_max art_max rrt_max cit_max "
                  "rtt_sum rtt_client_sum rtt_server_sum srt_sum art_sum rrt_sum cit_sum "
                  "rtt_count rtt_client_count rtt_server_count srt_count art_count rrt_count "
                  "cit_count"),
        (None, "retrans_tx retrans_rx zero_win_tx zero_win_rx retrans_syn retrans_synack"),
        ("tcp_error", "client_rst_flow server_rst_flow server_syn_miss client_ack_miss "
                      "client_half_close_flow server_half_close_flow client_source_port_reuse "
                      "client_establish_other_rst server_reset server_queue_lack "
                      "server_establish_other_rst tcp_timeout client_establish_fail "
                      "server_establish_fail tcp_establish_fail tcp_transfer_fail tcp_rst_fail"),
        ("application", "l7_client_error l7_server_error l7_timeout"),
        (None, "ooo_tx ooo_rx"),
        ("l4_throughput", "flow_load"),
    ]
    net = [Field(m, None, "metric", sub, (N, NM)) for sub, ms in groups for m in ms.split()]
    assert len(net) == 65
    app = [Field(m, None, "metric", sub, (A, AM)) for sub, ms in
           (("throughput", "request response direction_score"),
            ("delay", "rrt_max rrt_sum rrt_count"),
            ("error", "client_error server_error timeout")) for m in ms.split()]
    return net + app


TAGS = _tags()
ENUM_TAGS = {"role", "protocol", "capture_nic_type", "nat_source", "tunnel_type",
             "observation_point", "l7_protocol", "signal_source"}
METRICS = _metrics()


def family_of(ds):
    m = re.fullmatch(r"flow_metrics\.(network|network_map|application|application_map)\.(1s|1m)", ds)
    if not m:
        raise ValueError("unknown data source %r" % ds)
    return m.group(1)


def label_names(fam):
    """Every label a series of this family may carry."""
    return {"__name__", "datasource"} | {f.label(fam) for f in TAGS if fam in f.fams}


def metric_names(fam):
    return {f.json for f in METRICS if fam in f.fams}


# --- export-fields (spec 1.5, with flowrw's documented choices) -----------------

class Selection:
    def __init__(self, entries):
        if not entries:
            entries = ["$tag", "$metrics"]   # flowrw's default (DeepFlow's is metrics only)
        self.subs, self.names, self.everything = set(), set(), False
        for e in entries:
            if not e.startswith("$"):
                self.names.add(e)
            elif e == "$k8s.label":
                self.everything = True
            elif e == "$tag":
                self.subs |= set(TAG_SUBS)
            elif e == "$metrics":
                self.subs |= set(METRIC_SUBS)
            else:
                parts = e.split(".")
                key = parts[1] if len(parts) > 1 and parts[1] else e[1:]
                if key in ALL_SUBS:
                    self.subs.add(key)
                else:
                    raise ValueError("export-fields entry %r is not modelled by expect.py" % e)

    def selects(self, f):
        if self.everything:
            return True
        cat_bits = set(TAG_SUBS) if f.cat == "tag" else set(METRIC_SUBS)
        if cat_bits & self.subs and (f.sub is None or f.sub in self.subs):
            return True
        return f.json in self.names or (f.map_json is not None and f.map_json in self.names)


# --- tag filters (spec 1.6) on the row values as they arrive ----------------------

class Filter:
    def __init__(self, text):
        m = re.fullmatch(r"\s*(\S+)\s+(=|!=|in|not in)\s+(.*)", text)
        if not m:
            raise ValueError("filter %r: want 'FIELD OP V1,V2' with OP one of = != in 'not in'" % text)
        self.field, self.op = m.group(1), m.group(2)
        self.values = [v.strip() for v in m.group(3).split(",")]
        self.nums = []
        for v in self.values:
            try:
                self.nums.append(float(v))
            except ValueError:
                pass

    def accepts(self, fam, row):
        field = next((f for f in TAGS + METRICS if f.json == self.field and fam in f.fams), None)
        if field is None:
            return None   # the filter names no field of this family
        key = field.kafka_key(fam) if field.cat == "tag" else field.json
        v = row.get(key)
        if isinstance(v, str) and (field.utag or field.json in ENUM_TAGS):
            # DeepFlow filters these by raw number; a translated name needs the reverse tables.
            raise ValueError("filter on %s: translated values are not modelled" % self.field)
        positive = self.op in ("=", "in")
        if v is None:
            return True
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if (float(v) in self.nums) == positive:
                return True
            v = str(v)
        return (v in self.values) == positive


def accepted(filters, fam, row):
    """tag-filters with the default AND condition: every filter naming a field must pass."""
    for f in filters:
        if f.accepts(fam, row) is False:
            return False
    return True


# --- series keys ---------------------------------------------------------------------

def esc(s):
    out = bytearray()
    for b in s.encode("utf-8", "surrogateescape"):
        if b == 0x5c:
            out += b"\\\\"
        elif b == 0x22:
            out += b'\\"'
        elif b == 0x0a:
            out += b"\\n"
        elif b == 0x09:
            out += b"\\t"
        elif b == 0x0d:
            out += b"\\r"
        elif b < 0x20 or b == 0x7f:
            out += b"\\x%02x" % b
        else:
            out.append(b)
    return out.decode("utf-8", "surrogateescape")


def series_key(labels):
    name = labels.get("__name__")
    rest = sorted((n, v) for n, v in labels.items() if n != "__name__")
    body = ",".join('%s="%s"' % (esc(n), esc(v)) for n, v in rest)
    if name is None:
        return "{" + body + "}"
    return esc(name) + ("{" + body + "}" if rest else "")


_UNESC = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def parse_key(key):
    """Labels of a series key (the inverse of series_key)."""
    labels = {}
    i = key.find("{")
    if i < 0:
        return {"__name__": key}
    if i > 0:
        labels["__name__"] = key[:i]
    i += 1
    while i < len(key) and key[i] != "}":
        j = key.index("=", i)
        name = key[i:j]
        i = j + 2                          # skip ="
        val = []
        while key[i] != '"':
            if key[i] == "\\":
                c = key[i + 1]
                if c == "x":
                    val.append(chr(int(key[i + 2:i + 4], 16)))
                    i += 4
                    continue
                val.append(_UNESC.get(c, c))
                i += 2
            else:
                val.append(key[i])
                i += 1
        labels[name] = "".join(val)
        i += 1
        if i < len(key) and key[i] == ",":
            i += 1
    return labels


# --- deriving the expected samples ----------------------------------------------------

def label_value(v):
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return str(v)                      # numbers as decimal
    if isinstance(v, float):
        raise ValueError("fractional tag value %r is not modelled" % v)
    return v if v != "" else None          # empty values are omitted


def expected_samples(rows, data_sources, selection, filters, empty_metrics_disabled):
    out = collections.defaultdict(list)
    for row in rows:
        ds = row.get("datasource")
        if ds not in data_sources:
            continue
        fam = family_of(ds)
        if not accepted(filters, fam, row):
            continue
        labels = {"datasource": ds}
        for f in TAGS:
            if fam in f.fams and selection.selects(f):
                v = label_value(row.get(f.kafka_key(fam)))
                if v is not None:
                    labels[f.label(fam)] = v
        ts = int(row["time"]) * 1000
        for m in METRICS:
            if fam not in m.fams or not selection.selects(m) or m.json not in row:
                continue
            value = float(row[m.json])
            if empty_metrics_disabled and value == 0:
                continue
            out[series_key(dict(labels, __name__=m.json))].append((ts, value))
    return out


def read_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as e:
                    raise SystemExit("%s:%d: %s" % (path, n, e))
    return rows


def write_samples(samples, f):
    for key in sorted(samples):
        for ts, v in sorted(samples[key]):
            f.write("%s\t%d\t%r\n" % (key, ts, v))


def read_samples(path):
    out = collections.defaultdict(list)
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise SystemExit("%s:%d: want key TAB ts TAB value: %r" % (path, n, line[:200]))
            out[parts[0]].append((int(parts[1]), float(parts[2])))
    return out


# --- comparing --------------------------------------------------------------------------

def same_value(a, b):
    return a == b or (a != a and b != b)


def nearest(key, candidates):
    """The candidate series whose labels differ least from key's, and the differences."""
    want = parse_key(key)
    best, best_d = None, None
    for c in candidates:
        have = parse_key(c)
        if have.get("__name__") != want.get("__name__") or have.get("datasource") != want.get("datasource"):
            continue
        d = len(set(want.items()) ^ set(have.items()))
        if best_d is None or d < best_d:
            best, best_d = c, d
    if best is None:
        return None
    have = parse_key(best)
    only_got = {k: v for k, v in want.items() if have.get(k) != v}
    only_exp = {k: v for k, v in have.items() if want.get(k) != v}
    return "received has %s; expected has %s" % (only_got or "nothing more", only_exp or "nothing more")


def compare(expected, actual, what, limit=8):
    """Print every difference class with a few examples. True when identical."""
    problems = collections.defaultdict(list)
    for key in expected.keys() - actual.keys():
        problems["series missing"].append(key)
    for key in actual.keys() - expected.keys():
        problems["series not expected"].append(key)
    n_exp = sum(len(v) for v in expected.values())
    n_act = sum(len(v) for v in actual.values())
    for key in expected.keys() & actual.keys():
        want = dict(expected[key])
        seen = collections.Counter(ts for ts, _ in actual[key])
        for ts, v in actual[key]:
            if ts not in want:
                problems["sample not expected"].append("%s @%d = %r" % (key, ts, v))
            elif not same_value(want[ts], v):
                problems["wrong value"].append("%s @%d = %r, want %r" % (key, ts, v, want[ts]))
        for ts, c in seen.items():
            if c > 1:
                problems["duplicated sample"].append("%s @%d x%d" % (key, ts, c))
        for ts in want:
            if ts not in seen:
                problems["sample missing"].append("%s @%d = %r" % (key, ts, want[ts]))
    print("%s: %d series / %d samples expected, %d series / %d samples received"
          % (what, len(expected), n_exp, len(actual), n_act))
    for cls in ("series missing", "series not expected", "sample missing", "sample not expected",
                "duplicated sample", "wrong value"):
        items = sorted(problems.get(cls, ()))
        if not items:
            continue
        print("  %s: %d" % (cls, len(items)))
        for it in items[:limit]:
            print("    " + it)
            if cls == "series not expected":
                hint = nearest(it, expected.keys())
                if hint:
                    print("      nearest expected: " + hint)
            elif cls == "series missing":
                hint = nearest(it, actual.keys())
                if hint:
                    print("      nearest received: " + hint)
        if len(items) > limit:
            print("    ... and %d more" % (len(items) - limit))
    return not problems


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def fetch_prometheus(base, now):
    q = urllib.parse.urlencode({"query": '{__name__=~".+"}[3h]', "time": "%d" % (now + 60)})
    doc = json.loads(http_get(base + "/api/v1/query?" + q))
    if doc.get("status") != "success":
        raise RuntimeError("Prometheus query failed: %s" % doc)
    out = collections.defaultdict(list)
    for r in doc["data"]["result"]:
        key = series_key(r["metric"])
        for t, v in r.get("values", ()):
            out[key].append((int(round(float(t) * 1000)), float(v)))
    # Also every series the index knows, with or without samples in range.
    q = urllib.parse.urlencode({"match[]": '{__name__=~".+"}', "start": "0", "end": "%d" % (now + 60)})
    doc = json.loads(http_get(base + "/api/v1/series?" + q))
    for m in doc.get("data", ()):
        out.setdefault(series_key(m), [])
    return out


def fetch_victoria(base):
    try:
        http_get(base + "/internal/force_flush")   # make just-written rows searchable
    except (urllib.error.URLError, OSError):
        pass
    q = urllib.parse.urlencode({"match[]": '{__name__=~".+"}'})
    out = collections.defaultdict(list)
    for line in http_get(base + "/api/v1/export?" + q, timeout=30).decode("utf-8", "surrogateescape").splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        key = series_key(doc["metric"])
        out[key].extend((int(t), float(v)) for t, v in zip(doc["timestamps"], doc["values"]))
    return out


def check_remote(expected_path, fetch, what, wait):
    expected = read_samples(expected_path)
    deadline = time.monotonic() + wait
    while True:
        try:
            actual = fetch()
            err = None
        except (urllib.error.URLError, OSError, RuntimeError, ValueError) as e:
            actual, err = {}, e
        if err is None and set(actual) == set(expected) and \
                all(sorted(actual[k]) == sorted(expected[k]) for k in expected):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    if err is not None:
        print("%s: query failed: %s" % (what, err))
        return 1
    return 0 if compare(expected, actual, what) else 1


# --- subcommands -------------------------------------------------------------------------

def cmd_shift(a):
    with open(a.input, encoding="utf-8") as f:
        text = f.read()
    times = [int(t) for t in re.findall(r'"time":(\d+)', text)]
    if not times:
        raise SystemExit("%s: no \"time\" keys" % a.input)
    base = min(times)
    if base % 60:
        raise SystemExit("%s: the earliest time %d is not minute-aligned" % (a.input, base))
    now = int(a.now if a.now is not None else time.time())
    # The newest sample lands a minute or more in the past: Prometheus accepts
    # samples up to about an hour old and none from the future is needed.
    span = max(times) - base
    start = (now - span - 90) // 60 * 60
    off = start - base

    def fix_time(m):
        return '"time":%d' % (int(m.group(1)) + off)

    text = re.sub(r'"time":(\d+)', fix_time, text)   # time_str is left alone: flowrw ignores it
    with open(a.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


def cmd_series(a):
    rows = read_rows(a.rows)
    ds = [d for d in a.data_sources.split(",") if d]
    for d in ds:
        family_of(d)
    sel = Selection([e for e in (a.export_fields or "").split(",") if e])
    filters = [Filter(t) for t in a.filter or ()]
    samples = expected_samples(rows, set(ds), sel, filters, a.export_empty_metrics_disabled)
    if not samples:
        raise SystemExit("series: no sample expected; the test would prove nothing")
    if a.out:
        with open(a.out, "w", encoding="utf-8", errors="surrogateescape") as f:
            write_samples(samples, f)
    else:
        write_samples(samples, sys.stdout)
    return 0


def cmd_check_dump(a):
    return 0 if compare(read_samples(a.expected), read_samples(a.dump), "flowrw-receiver dump") else 1


def cmd_check_prometheus(a):
    now = int(time.time())
    return check_remote(a.expected, lambda: fetch_prometheus(a.url.rstrip("/"), now), "Prometheus", a.wait)


def cmd_check_victoria(a):
    return check_remote(a.expected, lambda: fetch_victoria(a.url.rstrip("/")), "VictoriaMetrics", a.wait)


def cmd_check_sane(a):
    fam = family_of(a.data_source)
    allowed_labels, metrics = label_names(fam), metric_names(fam)
    samples = read_samples(a.dump)
    bad = collections.defaultdict(list)
    now_ms = int(time.time() * 1000)
    n_samples = 0
    for key, ss in samples.items():
        labels = parse_key(key)
        if labels.get("datasource") != a.data_source:
            bad["wrong datasource"].append(key)
        if labels.get("__name__") not in metrics:
            bad["not a %s metric" % fam].append(key)
        extra = set(labels) - allowed_labels
        if extra:
            bad["labels not in the %s schema: %s" % (fam, ",".join(sorted(extra)))].append(key)
        if len(labels) < 3:
            bad["no tag labels at all"].append(key)
        for ts, v in ss:
            n_samples += 1
            if ts % 1000:
                bad["timestamp not whole seconds"].append("%s @%d" % (key, ts))
            if a.since_ms and not a.since_ms - 120000 <= ts <= now_ms + 60000:
                bad["timestamp not recent"].append("%s @%d" % (key, ts))
            if v != v or v < 0:
                bad["negative or NaN value"].append("%s = %r" % (key, v))
    print("dump: %d series, %d samples of %s" % (len(samples), n_samples, a.data_source))
    if len(samples) < a.min_series:
        bad["fewer series than %d" % a.min_series].append("%d series" % len(samples))
    for cls, items in sorted(bad.items()):
        print("  %s: %d, e.g. %s" % (cls, len(items), items[0]))
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("shift")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--now", type=int)
    s.set_defaults(fn=cmd_shift)
    s = sub.add_parser("series")
    s.add_argument("--rows", required=True)
    s.add_argument("--data-sources", required=True)
    s.add_argument("--export-fields")
    s.add_argument("--filter", action="append")
    s.add_argument("--export-empty-metrics-disabled", action="store_true")
    s.add_argument("--out")
    s.set_defaults(fn=cmd_series)
    s = sub.add_parser("check-dump")
    s.add_argument("expected")
    s.add_argument("dump")
    s.set_defaults(fn=cmd_check_dump)
    for name, fn in (("check-prometheus", cmd_check_prometheus), ("check-victoria", cmd_check_victoria)):
        s = sub.add_parser(name)
        s.add_argument("expected")
        s.add_argument("url")
        s.add_argument("--wait", type=float, default=10)
        s.set_defaults(fn=fn)
    s = sub.add_parser("check-sane")
    s.add_argument("dump")
    s.add_argument("--data-source", required=True)
    s.add_argument("--min-series", type=int, default=1)
    s.add_argument("--since-ms", type=int, default=0)
    s.set_defaults(fn=cmd_check_sane)
    a = p.parse_args()
    try:
        return a.fn(a)
    except (OSError, ValueError) as e:
        print("expect.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
