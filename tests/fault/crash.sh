#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# crash.sh: SIGKILL every pipeline process, again and again, while samples flow from a
# file source; every sample must still arrive (at least once).
#
# Rows of flow_metrics.network.1s (65 samples a row, current timestamps, every
# series+time distinct) go through flowrw (file source, batch mode) to flowrw-receiver,
# which dumps every sample.  Meanwhile the ingest, each encoder and the sender are
# killed with SIGKILL, KILLS times each, at random moments (a random role among the
# least-killed ones, random pauses; a role is only killed again once it has run
# > 1.1 s, so the supervisor's restart backoff stays at its minimum).  Per kill:
# the child is back (a new pid) within 1 s, and flowrw_process_restarts_total of its
# role grows by one.  At the end flowrw must drain and exit 0 by itself, and the dump
# must hold every expected sample: lost = 0; duplicates are counted and must stay
# below kills x lanes x batch-size (what can be in flight at a kill).
#
# make test runs the short form (FAULT_CRASH_SAMPLES=1500000, 3 kills per role: the
# pipeline moves 500000 samples in about 3 s, faster than 12 spaced kills);
# long_crash.sh runs it with 5 million samples and 10 kills per role.
. "$(dirname "$0")/lib.sh"
f_init "${1:-crash}"
SAMPLES=${FAULT_CRASH_SAMPLES:-1500000}
KILLS=${FAULT_CRASH_KILLS:-3}
LIMIT=${FAULT_CRASH_SECONDS:-240}      # bound on the whole kill phase + drain
DS=flow_metrics.network.1s
PER_ROW=65
ROWS=$(( (SAMPLES + PER_ROW - 1) / PER_ROW ))
SERIES=$(( ROWS / 2 > 16000 ? 16000 : ROWS / 2 ))
F_ENCODERS=2 F_QUEUES=4 F_BATCH=1024 F_FLUSH=1
# Small rings keep the ingest busy (backpressured) for most of the run, so it can be
# killed late in the flow; rows are < 4 KiB, so max-line-bytes 64KiB fits the ring.
# queue-size bounds what the lanes hold (series), so the rows wait in the rings.
F_RING=512KiB F_QUEUE_SIZE=4096 F_DRAIN=120

f_gen "$E2E_TMP/rows.ndjson" $DS $ROWS $SERIES
e2e_start_receiver rcv --quiet --dump "$E2E_TMP/rcv.dump"
f_config "$E2E_TMP/flowrw.yaml" "$RCV_URL" $DS \
	"    - {type: file, path: \"$E2E_TMP/rows.ndjson\", follow: false, max-line-bytes: 64KiB}"
f_start_flowrw "$E2E_TMP/flowrw.yaml"
e2e_log "$ROWS rows ($((ROWS * PER_ROW)) samples) of $DS; killing each role $KILLS times"

t_start=$(date +%s) deadline=$(( $(date +%s) + LIMIT ))
python3 "$F_DIR/killer.py" --supervisor "$FLOWRW_PID" --stats "$STATS_URL" --kills "$KILLS" \
	--roles flowrw-ingest,flowrw-enc0,flowrw-enc1,flowrw-sender --seconds "$LIMIT" \
	>"$E2E_TMP/killer.out" 2>&1
krc=$?
sed 's/^/    /' "$E2E_TMP/killer.out" >&2
summary=$(tail -n 1 "$E2E_TMP/killer.out")
[ $krc -eq 0 ] || e2e_check_fail "kill phase: $summary"
e2e_alive "$FLOWRW_PID" || e2e_check_fail "flowrw ended during the kill phase (the flow must outlast the kills)"
total=$(f_kv "$summary" kills) worst_back=$(f_kv "$summary" worst_ms)
f_scrape "$E2E_TMP/metrics.last" || true

# batch mode: the file is finite, flowrw drains and exits 0 by itself
left=$(( deadline - $(date +%s) ))
[ $left -lt 30 ] && left=30
if f_wait_exit "$FLOWRW_PID" "$left"; then
	[ "$F_RC" -eq 0 ] || e2e_check_fail "flowrw exited $F_RC after the kills, want 0"
else
	e2e_check_fail "flowrw did not finish within ${left}s after the kills"
fi
grep -q 'keeps failing' "$E2E_TMP/flowrw.log" && e2e_check_fail "the supervisor gave up on a child"
e2e_stop rcv 30
flowrw_totals=$(grep 'totals:' "$E2E_TMP/flowrw.log" | tail -n 1)
e2e_log "${flowrw_totals#*: }"

f_compare --rows "$E2E_TMP/rows.ndjson" --data-sources $DS --dump "$E2E_TMP/rcv.dump" ||
	e2e_check_fail "samples lost or wrong after $total kills"
lost=$(f_kv "$F_CMP" lost) dup=$(f_kv "$F_CMP" duplicated) exp=$(f_kv "$F_CMP" expected)
bound=$(( total * F_ENCODERS * F_QUEUES * F_BATCH ))
[ -n "$dup" ] && [ -n "$total" ] && [ "$dup" -le "$bound" ] ||
	e2e_check_fail "$dup duplicated samples, more than $total kills x lanes x batch-size = $bound"
f_figure kills "$total" "($(f_kv "$summary" ingest) ingest, $(f_kv "$summary" enc0)+$(f_kv "$summary" enc1) encoders, $(f_kv "$summary" sender) sender; mean return $(f_kv "$summary" mean_ms) ms)"
f_figure samples "$exp"
f_figure lost "$lost"
f_figure duplicated "$dup"
f_figure slowest_restart_ms "$worst_back"
e2e_done
