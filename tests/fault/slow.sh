#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# slow.sh: a slow endpoint (random response delays up to 2 s): memory stays bounded by the
# ring sizes, nothing is lost.
#
# flowrw reads a file of ~64 MB of rows (far more than its rings hold) and sends it to
# rw-testsrv answering every request after a random delay of 0..2000 ms.  For SLOW
# seconds the resident memory of the supervisor and its children is sampled every
# 0.5 s: the sum of their PSS (shared memory counted once) must stay below the shared
# memory flowrw reports (its rings and stats page) plus 16 MiB per process, and so must
# each process' RSS; the ingest must be held back (it has not read the whole file).
# Then the delays stop and flowrw gets SIGTERM: it drains and exits 0, and every sample
# of the rows it read (its "rows in" total: the first rows of the file) arrived.
. "$(dirname "$0")/lib.sh"
f_init "${1:-slow}"
f_need_testsrv
SLOW=${FAULT_SLOW_SECONDS:-15}
DS=flow_metrics.network.1s
ROWS=32000
f_gen "$E2E_TMP/rows.ndjson" $DS $ROWS 16000
ctl=$E2E_TMP/ctl
printf 'status 204\ndelay-random 2000\n' >"$ctl"
f_start_testsrv ts --control "$ctl" --log "$E2E_TMP/ts.samples" --stats "$E2E_TMP/ts.stats" --max-seconds 600
F_ENCODERS=2 F_RING=2MiB F_QUEUE_SIZE=8192 F_FLUSH=1 F_REQ_TIMEOUT=10 F_DRAIN=60
f_config "$E2E_TMP/flowrw.yaml" "$TS_URL" $DS \
	"    - {type: file, path: \"$E2E_TMP/rows.ndjson\", follow: false, max-line-bytes: 64KiB}"
f_start_flowrw "$E2E_TMP/flowrw.yaml"
shm_mib=$(sed -n 's/.*shared memory \([0-9.]*\) MiB.*/\1/p' "$E2E_TMP/flowrw.log" | head -n 1)
[ -n "$shm_mib" ] || e2e_fatal "flowrw did not log its shared memory size"
shm_kb=$(awk -v m="$shm_mib" 'BEGIN { printf "%d", m * 1024 }')
nproc=5     # supervisor, ingest, 2 encoders, sender
bound_pss=$(( shm_kb + nproc * 16 * 1024 ))
bound_rss=$(( shm_kb + 16 * 1024 ))
file_kb=$(( $(stat -c %s "$E2E_TMP/rows.ndjson") / 1024 ))

pss_sum() { # PSS of the supervisor and its children (KiB) in PSS; RSS_MAX: largest RSS
	local p s=0 v r
	RSS_MAX=0
	for p in "$FLOWRW_PID" $(pgrep -P "$FLOWRW_PID" 2>/dev/null); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
		r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${v:-0}))
		[ "${r:-0}" -gt "$RSS_MAX" ] && RSS_MAX=${r:-0}
	done
	PSS=$s
}
max_pss=0 max_rss=0 n=0
while [ $n -lt $((SLOW * 2)) ]; do
	e2e_alive "$FLOWRW_PID" || break
	pss_sum
	[ "$PSS" -gt "$max_pss" ] && max_pss=$PSS
	[ "$RSS_MAX" -gt "$max_rss" ] && max_rss=$RSS_MAX
	sleep 0.5
	n=$((n + 1))
done
f_scrape "$E2E_TMP/m.slow"
rows_read=$(f_metric 'flowrw_source_rows_total{source="0",type="file"}' "$E2E_TMP/m.slow")
sent=$(f_metric 'flowrw_exporter_sent_samples_total{exporter="0"}' "$E2E_TMP/m.slow")
e2e_log "after ${SLOW}s of slow answers: $sent samples delivered, $rows_read of $ROWS rows read; file ${file_kb} KiB"
e2e_log "memory: max PSS sum $max_pss KiB (bound $bound_pss = shm ${shm_kb} + $nproc x 16 MiB), max RSS of one process $max_rss KiB (bound $bound_rss)"
[ "$max_pss" -gt 0 ] && [ "$max_pss" -le "$bound_pss" ] || e2e_check_fail "PSS of flowrw reached $max_pss KiB > $bound_pss"
[ "$max_rss" -le "$bound_rss" ] || e2e_check_fail "one flowrw process reached RSS $max_rss KiB > $bound_rss"
[ -n "$rows_read" ] && [ "$rows_read" -lt "$ROWS" ] ||
	e2e_check_fail "the ingest read all $ROWS rows against a slow endpoint: it was not held back (or the file is too small)"
[ -n "$sent" ] && [ "$sent" -gt 0 ] || e2e_check_fail "nothing delivered in ${SLOW}s of slow answers"

# Fast again; SIGTERM: flowrw drains what it read and exits 0.  Everything it read
# (the first "rows in" rows of the file: one file source reads in order) must arrive.
printf 'status 204\n' >"$ctl"
sleep 0.5
kill -TERM "$FLOWRW_PID"
if f_wait_exit "$FLOWRW_PID" 90; then
	[ "$F_RC" -eq 0 ] || e2e_check_fail "flowrw exited $F_RC after SIGTERM, want 0"
else
	e2e_check_fail "flowrw did not drain within 90 s of SIGTERM"
fi
e2e_stop ts 10
rows_in=$(sed -n 's/.*totals: \([0-9]*\) rows in.*/\1/p' "$E2E_TMP/flowrw.log" | tail -n 1)
[ -n "$rows_in" ] || e2e_fatal "no totals line in flowrw.log"
head -n "$rows_in" "$E2E_TMP/rows.ndjson" >"$E2E_TMP/read.ndjson"
f_compare --rows "$E2E_TMP/read.ndjson" --data-sources $DS --testsrv-log "$E2E_TMP/ts.samples" ||
	e2e_check_fail "samples of the $rows_in rows read were lost or wrong with a slow endpoint"
f_figure slow_max_pss_kib "$max_pss (bound $bound_pss; shared memory $shm_kb; input file $file_kb)"
f_figure slow_max_rss_kib "$max_rss"
f_figure slow_samples "$(f_kv "$F_CMP" expected) lost $(f_kv "$F_CMP" lost) duplicated $(f_kv "$F_CMP" duplicated)"
e2e_done
