#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# quickstart.sh: the quick start's own config (etc/flowrw.yaml: synthetic
# application_map.1s rows) against flowrw-receiver, with only its endpoint moved to a
# free port and its stats port disabled.
#  1. flowrw alone: series arrive, well-formed (flowrw-receiver --check), plausible
#     (expect.py check-sane); SIGTERM drains, exit 0, and the receiver got exactly the
#     samples flowrw says it delivered, none twice.
#  2. tools/quickstart itself (what `make run` runs): refuses a taken port with a clear
#     message; prints series; a Ctrl-C (SIGINT to its process group, as a terminal
#     sends it) drains flowrw, stops the receiver, exits 0 and leaves nothing running.
. "$(dirname "$0")/lib.sh"
e2e_init quickstart
e2e_need_pipeline
e2e_need_receiver_tool
QS=$E2E_ROOT/tools/quickstart
CFG=$E2E_ROOT/etc/flowrw.yaml
DS=flow_metrics.application_map.1s
[ -x "$QS" ] || e2e_fatal "$QS is missing or not executable"
command -v setsid >/dev/null || e2e_fatal "setsid (util-linux) is missing"

# make_config OUT URL: etc/flowrw.yaml with the endpoint and stats-listen replaced.
make_config() {
	sed -e "s#http://127\.0\.0\.1:1234/receive#$2#" \
		-e 's#^\([[:space:]]*stats-listen:\).*#\1 ""#' "$CFG" >"$1"
	grep -qF "$2" "$1" && ! grep -q '127\.0\.0\.1:1234' "$1" && grep -q '^[[:space:]]*stats-listen: ""' "$1" ||
		e2e_fatal "etc/flowrw.yaml changed shape: cannot move its endpoint (http://127.0.0.1:1234/receive) and stats-listen"
	"$E2E_BIN/flowrw" --check-config "$1" >&2 || e2e_fatal "the rewritten quick start config does not validate"
}

# wait_lines FILE N SECONDS PID: until FILE has N lines; fails early if PID exits.
wait_lines() {
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		e2e_alive "$4" || return 1
		sleep 0.1
	done
	return 1
}

# --- 1. flowrw -c <the quick start config> --------------------------------------
e2e_start_receiver receiver --check --quiet --dump "$E2E_TMP/qs.dump"
RCV1_PORT=$(cat "$E2E_TMP/receiver.port")
make_config "$E2E_TMP/flowrw.yaml" "$RCV_URL"
since_ms=$(( $(date +%s) * 1000 ))
e2e_spawn flowrw "$E2E_BIN/flowrw" -c "$E2E_TMP/flowrw.yaml"
# 500 series x 9 metrics a second: a few thousand samples within seconds.
if wait_lines "$E2E_TMP/qs.dump" 2000 30 "$(e2e_pid_of flowrw)"; then
	e2e_log "series arrive: $(wc -l <"$E2E_TMP/qs.dump") samples after $(( $(date +%s) - since_ms / 1000 ))s"
else
	e2e_check_fail "fewer than 2000 samples arrived within 30s ($(wc -l <"$E2E_TMP/qs.dump" 2>/dev/null || echo 0))"
fi
sleep 1
e2e_stop flowrw 40
[ "$E2E_STOP_RC" -eq 0 ] || e2e_check_fail "flowrw exited $E2E_STOP_RC after SIGTERM, want 0 (drained)"
grep -q 'every process finished the drain' "$E2E_TMP/flowrw.log" ||
	e2e_check_fail "flowrw did not report a complete drain"

# --- 2. tools/quickstart ---------------------------------------------------------
# A taken port (the receiver above still holds its own) is refused, clearly.
make_config "$E2E_TMP/taken.yaml" "http://127.0.0.1:$RCV1_PORT/receive"
timeout 20 "$QS" -c "$E2E_TMP/taken.yaml" --listen "127.0.0.1:$RCV1_PORT" >/dev/null 2>"$E2E_TMP/taken.err"
rc=$?
[ $rc -eq 1 ] && grep -q "port $RCV1_PORT on 127.0.0.1 is already in use" "$E2E_TMP/taken.err" ||
	e2e_check_fail "quickstart with its receiver port taken: exit $rc, want 1 and a clear message: $(cat "$E2E_TMP/taken.err")"
QS_PORT=$(e2e_free_port)
sed 's#^\([[:space:]]*stats-listen:\).*#\1 "127.0.0.1:'"$RCV1_PORT"'"#' "$E2E_TMP/taken.yaml" >"$E2E_TMP/stats.yaml"
timeout 20 "$QS" -c "$E2E_TMP/stats.yaml" --listen "127.0.0.1:$QS_PORT" >/dev/null 2>"$E2E_TMP/stats.err"
rc=$?
[ $rc -eq 1 ] && grep -q "port $RCV1_PORT on 127.0.0.1 (flowrw's self-metrics" "$E2E_TMP/stats.err" ||
	e2e_check_fail "quickstart with the stats port taken: exit $rc, want 1 and a clear message: $(cat "$E2E_TMP/stats.err")"

# Now the first receiver's verdict on everything part 1 sent.
e2e_stop receiver
[ "$E2E_STOP_RC" -eq 0 ] ||
	e2e_check_fail "flowrw-receiver --check found violations or bad requests (exit $E2E_STOP_RC)"
grep -E 'total:|check:' "$E2E_TMP/receiver.log" >&2
python3 "$E2E_DIR/expect.py" check-sane "$E2E_TMP/qs.dump" --data-source "$DS" \
	--min-series 4500 --since-ms "$since_ms" >&2 ||
	e2e_check_fail "the quick start's series are not plausible $DS series"
delivered=$(sed -n 's/.*totals: .* \([0-9]*\) samples delivered.*/\1/p' "$E2E_TMP/flowrw.log" | tail -n 1)
received=$(sed -n 's/.*total: .* samples=\([0-9]*\) .*/\1/p' "$E2E_TMP/receiver.log" | tail -n 1)
dumped=$(wc -l <"$E2E_TMP/qs.dump")
[ -n "$delivered" ] && [ "$delivered" = "$received" ] && [ "$received" = "$dumped" ] ||
	e2e_check_fail "flowrw says it delivered '${delivered}' samples, the receiver counted '${received}', dumped $dumped"
grep -q 'duplicates=0' "$E2E_TMP/receiver.log" || e2e_check_fail "some samples arrived twice"

# The real thing, under a Ctrl-C. A terminal sends SIGINT to the whole foreground
# process group: setsid gives quickstart a group of its own to send it to, and env
# undoes the SIGINT-ignored that a background job inherits.
make_config "$E2E_TMP/qs.yaml" "http://127.0.0.1:$QS_PORT/receive"
e2e_spawn quickstart setsid env --default-signal=INT "$QS" -c "$E2E_TMP/qs.yaml" --listen "127.0.0.1:$QS_PORT"
qs_pid=$(e2e_pid_of quickstart)
series_re='^[a-z_0-9]+\{.*datasource="'"${DS//./\\.}"'".*\} [-+0-9.eE]+ [0-9]+$'
# Bounded by the clock, and each grep stops at the 1000th line: the log grows by
# megabytes a second, so scanning all of it each time would not be.
n=0 deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ] && e2e_alive "$qs_pid"; do
	n=$(grep -m 1000 -cE "$series_re" "$E2E_TMP/quickstart.log")
	[ "$n" -ge 1000 ] && break
	sleep 0.2
done
# Its children, so that cleanup can stop them should quickstart fail to.
kids=$(ps -o pid= --ppid "$qs_pid" 2>/dev/null | tr -s ' \n' ' ')
for k in $kids; do E2E_PROCS+=("$k quickstart-child"); done
[ "$n" -ge 1000 ] || e2e_check_fail "tools/quickstart printed $n series lines within 30s, want 1000"
kill -INT -- "-$qs_pid" 2>/dev/null
deadline=$((SECONDS + 45))
while e2e_alive "$qs_pid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
e2e_alive "$qs_pid" && e2e_check_fail "tools/quickstart still runs 45s after Ctrl-C"
e2e_stop_pid "$qs_pid" 10     # reaps it (and stops it, should it still run)
[ "$E2E_STOP_RC" -eq 0 ] || e2e_check_fail "tools/quickstart exited $E2E_STOP_RC after Ctrl-C, want 0"
grep -q 'flowrw drained and exited 0; receiver stopped' "$E2E_TMP/quickstart.log" ||
	e2e_check_fail "tools/quickstart did not report a clean drain and stop"
grep -q 'SIGINT: draining' "$E2E_TMP/quickstart.log" ||
	e2e_check_fail "flowrw did not drain on the Ctrl-C"
for k in $kids; do
	e2e_alive "$k" && e2e_check_fail "tools/quickstart left its child $k ($(cat /proc/$k/comm 2>/dev/null)) running"
done
[ -n "$kids" ] || e2e_check_fail "could not see tools/quickstart's children"
e2e_done
