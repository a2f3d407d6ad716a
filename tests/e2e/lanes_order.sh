#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lanes_order.sh: many ordered lanes against a receiver that answers each request after a
# random 0-100 ms, so requests of different lanes overtake one another all the time.
# At the receiver (rw-testsrv --check-order): every series' timestamps strictly increase
# (no order violation, no duplicate) and every sample arrives exactly once (the count
# equals rows x metrics a row); flowrw opens one keep-alive connection per lane and
# reuses it (connects == lanes, requests >> connects). Bounded: about 15 s, 60 s at most.
. "$(dirname "$0")/lib.sh"
e2e_init lanes_order
e2e_need_pipeline
SRV=${FLOWRW_BUILD:-$E2E_ROOT/build}/tests/rw-testsrv
[ -x "$SRV" ] || e2e_fatal "$SRV is missing (make tests-build)"

ENCODERS=2 QC=8 LANES=16
SERIES=500 ROUNDS=16 ROWS=$((500 * 16))  # each series gets 16 timestamps, one a second
METRICS_PER_ROW=65                          # network_map.1s: every metric of the schema

e2e_spawn srv "$SRV" --delay-random 100 --check-order --seed 7 --max-seconds 90 \
	--stats "$E2E_TMP/srv.stats"
for _ in $(seq 50); do [ -s "$E2E_TMP/srv.log" ] && break; sleep 0.1; done
PORT=$(head -1 "$E2E_TMP/srv.log")
[ -n "$PORT" ] || e2e_fatal "rw-testsrv did not start"
SPORT=$(e2e_free_port)

cat >"$E2E_TMP/flowrw.yaml" <<YAML
exporters:
  - protocol: prometheus
    endpoints: [http://127.0.0.1:$PORT/receive]
    data-sources: [flow_metrics.network_map.1s]
    queue-count: $QC
    queue-size: 2000
    batch-size: 200
    flush-timeout: 0.2
flowrw:
  encoders: $ENCODERS
  stats-listen: 127.0.0.1:$SPORT
  drain-timeout: 40
  sources:
    - {type: synthetic, data-source: flow_metrics.network_map.1s, rows-per-second: 0, series: $SERIES, rows: $ROWS, seed: 3}
YAML

e2e_spawn flowrw "$E2E_BIN/flowrw" -c "$E2E_TMP/flowrw.yaml"
FPID=$(e2e_pid_of flowrw)
CONNECTS=0
# The sources end by themselves; flowrw then drains and exits. Read the
# connects counter while it still serves /metrics.
for _ in $(seq 600); do
	e2e_alive "$FPID" || break
	c=$(curl -s --max-time 1 "http://127.0.0.1:$SPORT/metrics" |
		awk '/^flowrw_endpoint_connects_total/ { s += $NF } END { print s + 0 }')
	[ -n "$c" ] && [ "$c" -gt "$CONNECTS" ] && CONNECTS=$c
	sleep 0.1
done
e2e_alive "$FPID" && e2e_fatal "flowrw still running after 60 s"
wait "$FPID" 2>/dev/null
RC=$?
[ "$RC" = 0 ] || e2e_check_fail "flowrw exited $RC"
sleep 0.3 # the receiver rewrites its stats every 100 ms
st() { awk -v k="$1" '$1 == k { print $2 }' "$E2E_TMP/srv.stats"; }

WANT=$((ROWS * METRICS_PER_ROW))
e2e_log "receiver: $(st requests) requests on $(st connections) connections, $(st samples_2xx) samples," \
	"order violations $(st order_violations), duplicates $(st duplicates); flowrw connects $CONNECTS"
[ "$(st order_violations)" = 0 ] || e2e_check_fail "$(st order_violations) samples older than their series' last"
[ "$(st duplicates)" = 0 ] || e2e_check_fail "$(st duplicates) samples arrived twice"
[ "$(st samples_2xx)" = "$WANT" ] || e2e_check_fail "$(st samples_2xx) samples arrived, want $WANT"
[ "$(st samples)" = "$(st samples_2xx)" ] || e2e_check_fail "non-2xx answers seen"
[ "$(st decode_errors)" = 0 ] || e2e_check_fail "$(st decode_errors) undecodable requests"
grep -q "totals: $ROWS rows in, 0 rejected, 0 dropped, $WANT samples delivered, 0 series dropped (4xx), 0 series undelivered, 0 series abandoned" \
	"$E2E_TMP/flowrw.log" || e2e_check_fail "flowrw's totals line disagrees: $(grep totals: "$E2E_TMP/flowrw.log")"
# Enough requests that lanes really overlapped, over one kept-alive connection per lane.
[ "$(st requests)" -ge $((LANES * 10)) ] || e2e_check_fail "only $(st requests) requests"
[ "$CONNECTS" -ge 1 ] && [ "$CONNECTS" -le "$LANES" ] ||
	e2e_check_fail "flowrw_endpoint_connects_total $CONNECTS, want 1..$LANES (one per lane, reused)"
[ "$(st connections)" -le "$LANES" ] || e2e_check_fail "$(st connections) connections at the receiver for $LANES lanes"
e2e_done
