#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# supervisor_restart.sh: while a synthetic source flows, SIGKILL each child role
# (ingest, every encoder, the sender): each is back within 1 s, the restart is
# counted in /metrics, and delivery goes on; then SIGTERM drains and flowrw
# exits 0. Also: `flowrw status` prints every stage; --check-config answers.
. "$(dirname "$0")/lib.sh"
e2e_init supervisor_restart
e2e_need_pipeline
e2e_start_receiver receiver --count --quiet

STATS_PORT=$(e2e_free_port)
STATS=127.0.0.1:$STATS_PORT
cat >"$E2E_TMP/flowrw.yaml" <<YAML
exporters:
  - protocol: prometheus
    data-sources: [flow_metrics.application_map.1s]
    endpoints: [$RCV_URL]
    batch-size: 256
    flush-timeout: 1
flowrw:
  encoders: 2
  ring-bytes: 4MiB
  drain-timeout: 10
  stats-listen: "$STATS"
  sources:
    - {type: synthetic, data-source: flow_metrics.application_map.1s, rows-per-second: 2000, series: 2000, seed: 7}
YAML

"$E2E_BIN/flowrw" --check-config "$E2E_TMP/flowrw.yaml" >"$E2E_TMP/check.out" 2>&1 ||
	e2e_fatal "--check-config refused the test config: $(cat "$E2E_TMP/check.out")"
grep -q '^ok: ' "$E2E_TMP/check.out" || e2e_check_fail "--check-config did not print ok: $(cat "$E2E_TMP/check.out")"

e2e_spawn flowrw "$E2E_BIN/flowrw" -c "$E2E_TMP/flowrw.yaml"
FLOWRW_PID=$(e2e_pid_of flowrw)
e2e_wait_http "http://$STATS/metrics" 10 "$FLOWRW_PID" || e2e_fatal "flowrw's /metrics did not come up"

metric() { # NAME [LABEL-FRAGMENT]: the sum of the matching samples
	curl -sf --max-time 2 "http://$STATS/metrics" |
		awk -v n="$1" -v f="${2:-}" '$1 == n || index($1, n "{") == 1 { if (f == "" || index($1, f)) s += $NF } END { printf "%d\n", s }'
}

# The pid of a child of flowrw by its process name (comm).
child_pid() { pgrep -P "$FLOWRW_PID" -x "$1" | head -n 1; }

wait_sent_above() { # N SECONDS: until more than N samples were delivered
	local i=0
	while [ $i -lt $(( $2 * 10 )) ]; do
		[ "$(metric flowrw_exporter_sent_samples_total)" -gt "$1" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

wait_sent_above 0 15 || e2e_fatal "nothing delivered within 15 s of the start"

for victim in flowrw-ingest flowrw-enc0 flowrw-enc1 flowrw-sender; do
	case $victim in
	flowrw-ingest) frag='role="ingest"' ;;
	flowrw-sender) frag='role="sender"' ;;
	flowrw-enc*) frag="role=\"encoder\",index=\"${victim#flowrw-enc}\"" ;;
	esac
	old=$(child_pid "$victim")
	[ -n "$old" ] || { e2e_check_fail "$victim is not running before the kill"; continue; }
	restarts0=$(metric flowrw_process_restarts_total "$frag")
	sent0=$(metric flowrw_exporter_sent_samples_total)
	t0=$(date +%s%N)
	kill -KILL "$old"
	new=
	for _ in $(seq 1 40); do # 2 s at most, the requirement is 1 s
		new=$(child_pid "$victim")
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		new=
		sleep 0.05
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [ -z "$new" ]; then
		e2e_check_fail "$victim was not restarted within 2 s"
		continue
	fi
	[ "$ms" -le 1000 ] || e2e_check_fail "$victim came back after $ms ms (more than 1 s)"
	restarts1=$(metric flowrw_process_restarts_total "$frag")
	[ "$restarts1" -eq $((restarts0 + 1)) ] ||
		e2e_check_fail "$victim: restarts counter went $restarts0 -> $restarts1, expected +1"
	wait_sent_above "$sent0" 15 || e2e_check_fail "delivery did not go on after killing $victim"
	e2e_log "$victim: pid $old killed, pid $new up after $ms ms, restarts $restarts0 -> $restarts1"
done

"$E2E_BIN/flowrw" status --listen "$STATS" --interval 0.5 >"$E2E_TMP/status.out" 2>&1 ||
	e2e_check_fail "flowrw status failed: $(cat "$E2E_TMP/status.out")"
for stage in ingest 'encoder\[0\]' 'encoder\[1\]' sender; do
	grep -q "^$stage " "$E2E_TMP/status.out" || e2e_check_fail "flowrw status has no $stage line"
done

e2e_stop flowrw 20
[ "$E2E_STOP_RC" -eq 0 ] || e2e_check_fail "flowrw exited $E2E_STOP_RC after SIGTERM, expected 0 (drained)"
grep -q 'every process finished the drain' "$E2E_TMP/flowrw.log" ||
	e2e_check_fail "the log does not say the drain finished"
e2e_done
