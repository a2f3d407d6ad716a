#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shutdown.sh: SIGTERM under load drains within drain-timeout and exits 0; everything the
# ingest took before the signal is delivered, or counted as undelivered when the endpoint
# is down at the deadline.
#
# A: flowrw reads a large file (flow_metrics.network.1s) and sends to flowrw-receiver;
#    after 3 s (file still being read) SIGTERM.  flowrw must exit 0 within drain-timeout
#    (20 s) + 3 s, count nothing undelivered, and the receiver must hold every sample of
#    the rows flowrw took (its final "rows in" total: the first rows of the file).
# B: the same, but the receiver is stopped just before the SIGTERM (drain-timeout 3 s):
#    flowrw must exit 0 within 3 s + 3 s, and delivered (unique) + undelivered series
#    (left in lane rings) + abandoned series (encoders: partial batches and rows never
#    encoded), from the supervisor's totals line, must equal the samples of
#    the rows it took: nothing vanishes uncounted.
. "$(dirname "$0")/lib.sh"
f_init "${1:-shutdown}"
DS=flow_metrics.network.1s
ROWS=16000
f_gen "$E2E_TMP/rows.ndjson" $DS $ROWS 8000
F_ENCODERS=2 F_RING=512KiB F_QUEUE_SIZE=4096 F_FLUSH=1 F_MAX_BACKOFF=0.5

run_case() { # NAME DRAIN DOWN(0/1)
	local name=$1 drain=$2 down=$3 t0 dt rows_in undelivered abandoned uniq exp i
	e2e_start_receiver "rcv$name" --quiet --dump "$E2E_TMP/$name.dump"
	F_DRAIN=$drain
	f_config "$E2E_TMP/$name.yaml" "$RCV_URL" $DS \
		"    - {type: file, path: \"$E2E_TMP/rows.ndjson\", follow: false, max-line-bytes: 64KiB}"
	f_start_flowrw "$E2E_TMP/$name.yaml"
	sleep 3
	f_scrape "$E2E_TMP/$name.m0"
	[ "$(f_metric 'flowrw_source_exhausted{source="0",type="file"}' "$E2E_TMP/$name.m0")" = 0 ] ||
		e2e_check_fail "$name: the file was read to its end before SIGTERM: make it larger"
	[ "$down" = 1 ] && e2e_stop "rcv$name" 10
	t0=$(f_now_ms)
	kill -TERM "$FLOWRW_PID"
	i=0
	while e2e_alive "$FLOWRW_PID" && [ $i -lt $(( (drain + 10) * 10 )) ]; do
		f_scrape "$E2E_TMP/$name.tmp" 2>/dev/null && mv "$E2E_TMP/$name.tmp" "$E2E_TMP/$name.mlast"
		sleep 0.1
		i=$((i + 1))
	done
	if f_wait_exit "$FLOWRW_PID" 1; then
		dt=$(( $(f_now_ms) - t0 ))
		[ "$F_RC" -eq 0 ] || e2e_check_fail "$name: flowrw exited $F_RC after SIGTERM, want 0"
		[ "$dt" -le $(( (drain + 3) * 1000 )) ] || e2e_check_fail "$name: drain took $dt ms, drain-timeout is $drain s"
	else
		e2e_check_fail "$name: flowrw still runs $((drain + 10)) s after SIGTERM"
		dt=timeout
	fi
	[ "$down" = 1 ] || e2e_stop "rcv$name" 10
	rows_in=$(sed -n 's/.*totals: \([0-9]*\) rows in.*/\1/p' "$E2E_TMP/flowrw.log" | tail -n 1)
	undelivered=$(sed -n 's/.* \([0-9]*\) series undelivered.*/\1/p' "$E2E_TMP/flowrw.log" | tail -n 1)
	[ -n "$rows_in" ] && [ -n "$undelivered" ] || { e2e_check_fail "$name: no totals line"; return; }
	# The supervisor's totals line is written after every child exited: the
	# last scrape may come before an encoder's final count.
	abandoned=$(sed -n 's/.* \([0-9]*\) series abandoned.*/\1/p' "$E2E_TMP/flowrw.log" | tail -n 1)
	head -n "$rows_in" "$E2E_TMP/rows.ndjson" >"$E2E_TMP/$name.taken"
	e2e_log "$name: drained in $dt ms; $rows_in of $ROWS rows taken; undelivered $undelivered, abandoned ${abandoned:-?}"
	if [ "$down" = 0 ]; then
		f_compare --rows "$E2E_TMP/$name.taken" --data-sources $DS --dump "$E2E_TMP/$name.dump" ||
			e2e_check_fail "$name: samples of rows taken before SIGTERM were lost"
		[ "$undelivered" = 0 ] || e2e_check_fail "$name: $undelivered series undelivered with the endpoint up"
		f_figure "shutdown_up" "drained in $dt ms (drain-timeout $drain s), $rows_in rows taken, samples $(f_kv "$F_CMP" expected), lost $(f_kv "$F_CMP" lost), undelivered $undelivered"
	else
		f_compare --rows "$E2E_TMP/$name.taken" --data-sources $DS --dump "$E2E_TMP/$name.dump" \
			--max-lost 100000000 || e2e_check_fail "$name: wrong or unexpected samples"
		exp=$(f_kv "$F_CMP" expected) uniq=$(f_kv "$F_CMP" unique)
		[ -n "$exp" ] && [ $(( uniq + undelivered + ${abandoned:-0} )) -eq "$exp" ] ||
			e2e_check_fail "$name: delivered $uniq + undelivered $undelivered + abandoned ${abandoned:-0} != $exp samples of the rows taken"
		[ "$undelivered" -gt 0 ] || e2e_check_fail "$name: nothing was left undelivered with the endpoint down: the case tested nothing"
		f_figure "shutdown_down" "exited 0 in $dt ms (drain-timeout $drain s), $rows_in rows taken = $exp samples: $uniq delivered + $undelivered undelivered + ${abandoned:-0} abandoned"
	fi
}
[ "${FAULT_SHUTDOWN_ONLY:-up}" = down ] || run_case up 20 0
run_case down 3 1
e2e_done
