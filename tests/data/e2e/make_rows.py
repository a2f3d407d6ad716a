#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_rows.py: writes rows.ndjson, the end-to-end fixture (edit this, not the output).

Three series for each of the 8 flow_metrics data sources, two rows (timestamps) per
series, 48 rows in time order, in the shape of DeepFlow's Kafka JSON (key order:
datasource, time, metrics, tags, time_str; empty strings and absent keys as DeepFlow
omits them). Every metric value is distinct (row * 1000 + metric index) except a few
deliberate zeros, plus one integer above 2^53. Label values include spaces, quotes,
backslashes, a tab, raw UTF-8, and the rows of one series are written with \\u escapes
(incl. a surrogate pair).
Times start at 1716998400 (minute-aligned); the tests move them to the present.
"""

import datetime
import json
import os

BASE = 1716998400

NET_METRICS = (
    "packet_tx packet_rx byte_tx byte_rx l3_byte_tx l3_byte_rx l4_byte_tx l4_byte_rx new_flow "
    "closed_flow l7_request l7_response syn_count synack_count direction_score rtt_max "
    "rtt_client_max rtt_server_max srt_max art_max rrt_max cit_max rtt_sum rtt_client_sum "
    "rtt_server_sum srt_sum art_sum rrt_sum cit_sum rtt_count rtt_client_count rtt_server_count "
    "srt_count art_count rrt_count cit_count retrans_tx retrans_rx zero_win_tx zero_win_rx "
    "retrans_syn retrans_synack client_rst_flow server_rst_flow server_syn_miss client_ack_miss "
    "client_half_close_flow server_half_close_flow client_source_port_reuse "
    "client_establish_other_rst server_reset server_queue_lack server_establish_other_rst "
    "tcp_timeout client_establish_fail server_establish_fail tcp_establish_fail tcp_transfer_fail "
    "tcp_rst_fail l7_client_error l7_server_error l7_timeout ooo_tx ooo_rx flow_load").split()
APP_METRICS = "request response direction_score rrt_max rrt_sum rrt_count client_error server_error timeout".split()
assert len(NET_METRICS) == 65

SIDE_KEYS = ("ip4 l3_epc l3_device l3_device_type region subnet host pod_node az pod_group pod_ns "
             "pod pod_cluster service auto_instance auto_instance_type auto_service "
             "auto_service_type gprocess").split()

# Entities: the values of SIDE_KEYS (None = key absent, "" = DeepFlow's empty, omitted).
POD_CLIENT = dict(zip(SIDE_KEYS, (
    "10.16.0.1", "vpc-prod-north", "loadgenerator-r47cq6l4k-tvrsq", "pod", "cn-north-1",
    "subnet-pods-cn-north-1b", "hv-cn-north-1b-04", "prod-a-node-011", "cn-north-1b",
    "loadgenerator", "shop", "loadgenerator-r47cq6l4k-tvrsq", "k8s-prod-a", "loadgenerator",
    "loadgenerator-r47cq6l4k-tvrsq", "pod", "loadgenerator", "pod_service", "locust")))
VM_CLIENT = dict(zip(SIDE_KEYS, (
    "10.20.3.4", "vpc-prod-north", "vm-billing-02", "chost", "cn-north-1",
    "subnet-vm-cn-north-1a", "hv-cn-north-1a-07", None, "cn-north-1a",
    None, "", None, None, None,
    "vm-billing-02", "chost", "vm-billing-02", "chost", "")))
INTERNET_CLIENT = dict(zip(SIDE_KEYS, (
    "203.0.113.7", "", None, "internet_ip", "", None, None, None, None,
    None, None, None, None, None,
    "203.0.113.7", "internet_ip", "203.0.113.7", "internet_ip", None)))
POD_SERVER = dict(zip(SIDE_KEYS, (
    "10.32.1.10", "vpc-prod-north", "frontend-l46kn4mhtj-ntlkw", "pod", "cn-north-1",
    "subnet-pods-cn-north-1a", "hv-cn-north-1a-00", "prod-a-node-000", "cn-north-1a",
    "frontend", "shop", "frontend-l46kn4mhtj-ntlkw", "k8s-prod-a", "frontend",
    "frontend-l46kn4mhtj-ntlkw", "pod", "frontend", "pod_service", "frontend")))
DB_SERVER = dict(zip(SIDE_KEYS, (
    "10.33.7.21", "vpc-prod-east", "mysql-0", "pod", "cn-east-2", "subnet-pods-cn-east-2b",
    "hv-cn-east-2b-01", "prod-b-node-001", "cn-east-2b", "mysql", "data", "mysql-0",
    "k8s-prod-b", "mysql", "mysql-0", "pod", "mysql", "pod_service", "mysqld")))
LB_SERVER = dict(zip(SIDE_KEYS, (
    "10.16.200.5", "vpc-prod-north", "lb-public-01", "lb", "cn-north-1", "subnet-lb-cn-north-1b",
    None, None, "cn-north-1b", None, None, None, None, None,
    "lb-public-01", "lb", "lb-public-01", "lb", "")))

# (client, server, protocol, server_port, role, observation point, signal source, agent, app fields)
SERIES = (
    (POD_CLIENT, POD_SERVER, "TCP", 8080, "Client", "Client Process", "eBPF", "prod-a-node-011-V12",
     {"l7_protocol": "HTTP", "app_service": "frontend", "app_instance": "frontend-l46kn4mhtj-ntlkw:8080",
      "endpoint": 'GET /api/cart?id="42"'}),
    (VM_CLIENT, DB_SERVER, "UDP", 3306, "Server", "Server NIC", "Packet", "prod-b-node-001-V102",
     {"l7_protocol": "MySQL", "app_service": "café-billing", "app_instance": "C:\\svc\\mysql",
      "endpoint": "SELECT\tusers"}),
    (INTERNET_CLIENT, LB_SERVER, "TCP", 443, "Rest", "Client-side Gateway", "Packet", "gw-north-V7",
     {"l7_protocol": "HTTP2", "app_service": "", "endpoint": "/health 🚀"}),
)

DATA_SOURCES = ("network", "network_map", "application", "application_map")


def row(fam, gran, s, t, rix):
    client, server, proto, port, role, obs, sig, agent, app = SERIES[s]
    ds = "flow_metrics.%s.%s" % (fam, gran)
    r = {"datasource": ds, "time": t}
    metrics = NET_METRICS if fam.startswith("network") else APP_METRICS
    for m, name in enumerate(metrics):
        r[name] = (rix + 1) * 1000 + m
    if rix == 0:
        r["packet_tx"] = 12345678901234567         # not exact as a double: rounds like C does
    if rix % 7 == 3 and fam.startswith("network"):
        for name in ("retrans_tx", "retrans_rx", "zero_win_tx", "zero_win_rx"):
            r[name] = 0                            # zeros are exported unless disabled
    if rix % 7 == 5 and fam.startswith("application"):
        r["client_error"] = 0
    r["thread_id"] = s + 1                     # a label: constant per series
    sides = ((client, "_0"), (server, "_1")) if fam.endswith("_map") else ((client, ""),)
    for ent, suffix in sides:
        for k in SIDE_KEYS:
            if ent[k] is not None:
                r[k + suffix] = ent[k]
    if not fam.endswith("_map"):
        r["role"] = role
    r["protocol"] = proto
    r["server_port"] = port
    r["agent"] = agent
    r["org_id"] = 1
    r["team_id"] = 1
    if fam.endswith("_map"):
        r["capture_nic"] = 305419896 + s
        r["capture_nic_type"] = "eBPF" if sig == "eBPF" else "Local NIC"
        r["nat_source"] = "NONE"
        r["tunnel_type"] = "VXLAN" if s == 2 else "N/A"
        r["observation_point"] = obs
    r["capture_network_type_id"] = 3
    r["is_ipv4"] = 1
    if fam.startswith("application"):
        for k in ("l7_protocol", "app_service", "app_instance", "endpoint"):
            if k in app:
                r[k] = app[k]
        r["biz_type"] = 0                          # numeric 0 is a label value, not "empty"
    r["signal_source"] = sig
    r["time_str"] = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S +0000 UTC")
    return r


def main():
    rows = []
    rix = 0
    for fam in DATA_SOURCES:
        for gran, times in (("1s", (BASE + 30, BASE + 31)), ("1m", (BASE, BASE + 60))):
            for s in range(len(SERIES)):
                for t in times:
                    rows.append(row(fam, gran, s, t, rix))
                    rix += 1
    rows.sort(key=lambda r: r["time"])             # stable: series order kept within a second
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rows.ndjson")
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            # One series with \u escapes (incl. a surrogate pair), the rest raw UTF-8 as DeepFlow writes.
            ascii_only = r["datasource"] == "flow_metrics.application.1m" and "endpoint" in r and \
                "🚀" in r["endpoint"]
            f.write(json.dumps(r, ensure_ascii=ascii_only, separators=(",", ":")) + "\n")
    print("%s: %d rows" % (out, len(rows)))


if __name__ == "__main__":
    main()
