#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# supervisor_giveup.sh: a child that cannot start (ingest's tcp port is taken)
# must not be restarted forever: flowrw stops within seconds, exits non-zero,
# and says which child failed and why. A config error stops it at once.
. "$(dirname "$0")/lib.sh"
e2e_init supervisor_giveup
e2e_need_pipeline

# Hold a port so ingest cannot listen on it.
e2e_spawn holder python3 -u -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(120)'
for _ in $(seq 1 100); do [ -s "$E2E_TMP/holder.log" ] && break; sleep 0.1; done
PORT=$(head -n 1 "$E2E_TMP/holder.log")
[ -n "$PORT" ] || e2e_fatal "the port holder did not start"

cat >"$E2E_TMP/flowrw.yaml" <<YAML
exporters:
  - protocol: prometheus
    data-sources: [flow_metrics.application_map.1s]
    endpoints: [http://127.0.0.1:9/receive]
flowrw:
  encoders: 1
  ring-bytes: 4MiB
  stats-listen: ""
  sources: [{type: tcp, listen: "127.0.0.1:$PORT"}]
YAML
t0=$(date +%s)
timeout -k 5 40 "$E2E_BIN/flowrw" -c "$E2E_TMP/flowrw.yaml" >"$E2E_TMP/flowrw.log" 2>&1
rc=$?
dt=$(( $(date +%s) - t0 ))
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] ||
	e2e_check_fail "flowrw exited $rc after ${dt}s, expected a non-zero exit of its own"
[ $dt -le 30 ] || e2e_check_fail "flowrw took ${dt}s to give up"
grep -Eq 'ingest .*(cannot work with this configuration|keeps failing at start)' "$E2E_TMP/flowrw.log" ||
	e2e_check_fail "no clear message naming the failing child: $(tail -n 5 "$E2E_TMP/flowrw.log")"
grep -q "$PORT" "$E2E_TMP/flowrw.log" || e2e_check_fail "the log does not name the taken address"
e2e_log "gave up after ${dt}s with status $rc"
e2e_done
