#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# storm.sh: status storms.  503 with Retry-After, then 429, then 2xx: Retry-After is
# honoured and everything is delivered; 400: the batch is dropped once, counted, never
# resent; a random mix of failures and delays over 16 lanes keeps every series in order.
#
# Part 1: flowrw (file source, 8 lanes, min-backoff 0.01 s, max-backoff 0.1 s, so that
# only Retry-After can explain slow retries) sends to rw-testsrv driven by a control
# file: 503 + "Retry-After: 2" for 4 s (each lane may try at most 2 + 4/2 times: a lane
# ignoring Retry-After would try ~50 times), then 429 without Retry-After for 1 s
# (retried with backoff), then the next 3 requests answered 400 and every later one 204.
# Checks: the request counts of each phase; the samples of the three 400 answers never
# reach rw-testsrv again and are exactly flowrw_exporter_dropped_series_total; every
# other sample arrives once; per-series order among 2xx answers.
# Part 2: 16 lanes (2 encoders x queue-count 8) against rw-testsrv answering 30 % of
# requests 503, with random delays up to 100 ms: nothing lost, no order violation.
. "$(dirname "$0")/lib.sh"
f_init "${1:-storm}"
f_need_testsrv
DS=flow_metrics.network.1s
# 4 rounds of 150 series: every series has 4 timestamps, so order can be checked.
f_gen "$E2E_TMP/rows.ndjson" $DS 600 150
src="    - {type: file, path: \"$E2E_TMP/rows.ndjson\", follow: false}"
M_5XX='flowrw_endpoint_responses_total{exporter="0",endpoint="URL",status="5xx"}'

# --- part 1: 503 + Retry-After, 429, 400, 2xx -------------------------------------------
ctl=$E2E_TMP/ctl
printf 'status 503\nretry-after 2\n' >"$ctl"
f_start_testsrv ts1 --control "$ctl" --log "$E2E_TMP/ts1.samples" --stats "$E2E_TMP/ts1.stats" --check-order --max-seconds 300
F_ENCODERS=2 F_QUEUES=4 F_BATCH=500 F_FLUSH=1 F_MIN_BACKOFF=0.01 F_MAX_BACKOFF=0.1
f_config "$E2E_TMP/flowrw1.yaml" "$TS_URL" $DS "$src"
f_start_flowrw "$E2E_TMP/flowrw1.yaml"
t0=$(f_now_ms)
sleep 4
sleep 0.2      # let rw-testsrv rewrite its stats (every 100 ms)
r503=$(f_testsrv_stat ts1 answered_5xx)
lanes=$(f_metric 'flowrw_exporter_lanes{exporter="0"}')
printf 'status 429\n' >"$ctl"
t1=$(f_now_ms)
# Longer than the last Retry-After (2 s): the lanes retry in step, and a
# shorter window can fall between two of their attempts.
sleep 2.5
sleep 0.2
r429=$(f_testsrv_stat ts1 answered_429)
printf 'status 204\nscript 400x3\n' >"$ctl"
e2e_log "503 phase: $r503 requests in $(( (t1 - t0) / 1000 )) s over $lanes lanes; 429 phase: $r429 requests"
max503=$(( lanes * ((t1 - t0) / 2000 + 2) ))
[ -n "$r503" ] && [ "$r503" -ge "$lanes" ] || e2e_check_fail "only '$r503' requests during the 503 phase, want >= $lanes (one per lane)"
[ -n "$r503" ] && [ "$r503" -le "$max503" ] ||
	e2e_check_fail "$r503 requests during 5 s of 503 + Retry-After: 2 over $lanes lanes: Retry-After not honoured (max $max503)"
[ -n "$r429" ] && [ "$r429" -ge "$lanes" ] || e2e_check_fail "only '$r429' requests answered 429 in 2.7 s: 429 not retried"
if f_wait_exit "$FLOWRW_PID" 120; then
	[ "$F_RC" -eq 0 ] || e2e_check_fail "flowrw exited $F_RC, want 0"
else
	e2e_check_fail "flowrw did not deliver the file within 120 s after the storm"
fi
grep 'totals:' "$E2E_TMP/flowrw.log" | tail -n 1 >&2
dropped_series=$(sed -n 's/.* \([0-9]*\) series dropped (4xx).*/\1/p' "$E2E_TMP/flowrw.log" | tail -n 1)
e2e_stop ts1 10
r400=$(f_testsrv_stat ts1 answered_4xx)
ov1=$(f_testsrv_stat ts1 order_violations)
[ "$r400" = 3 ] || e2e_check_fail "rw-testsrv answered $r400 requests with 400, want exactly 3 (a dropped batch was resent?)"
storm=$($F_SAMPLES storm --testsrv-log "$E2E_TMP/ts1.samples")
e2e_log "rw-testsrv log: $storm"
rejected=$(f_kv "$storm" rejected)
[ "$(f_kv "$storm" resent_after_400)" = 0 ] || e2e_check_fail "samples answered 400 were sent again"
[ "$(f_kv "$storm" rejected_and_delivered)" = 0 ] || e2e_check_fail "samples answered 400 were delivered later"
[ "$(f_kv "$storm" order_violations)" = 0 ] && [ "$ov1" = 0 ] || e2e_check_fail "per-series order violated among 2xx answers"
[ "$(f_kv "$storm" duplicated_2xx)" = 0 ] || e2e_check_fail "samples answered 2xx more than once"
[ -n "$rejected" ] && [ "$rejected" -gt 0 ] && [ "$rejected" = "$dropped_series" ] ||
	e2e_check_fail "$rejected samples answered 400, but flowrw counted '$dropped_series' series dropped"
# Every sample not refused with 400 arrived (the 400 ones are the only ones missing).
f_compare --rows "$E2E_TMP/rows.ndjson" --data-sources $DS --testsrv-log "$E2E_TMP/ts1.samples" \
	--max-lost "${rejected:-0}" || e2e_check_fail "part 1: samples lost or wrong"
[ "$(f_kv "$F_CMP" lost)" = "$rejected" ] || e2e_check_fail "part 1: lost $(f_kv "$F_CMP" lost) samples, want exactly the $rejected refused with 400"
f_figure storm_503_requests "$r503 (max $max503 for $lanes lanes)"
f_figure storm_429_requests "$r429"
f_figure storm_400_dropped_series "$rejected"
f_figure storm_samples "$(f_kv "$F_CMP" expected)"

# --- part 2: random 503s and delays over 16 lanes: order kept ------------------------
f_start_testsrv ts2 --fail-random 30 --delay-random 100 --log "$E2E_TMP/ts2.samples" \
	--stats "$E2E_TMP/ts2.stats" --check-order --max-seconds 300 --seed $RANDOM
F_QUEUES=8 F_BATCH=100
f_config "$E2E_TMP/flowrw2.yaml" "$TS_URL" $DS "$src"
f_start_flowrw "$E2E_TMP/flowrw2.yaml"
if f_wait_exit "$FLOWRW_PID" 180; then
	[ "$F_RC" -eq 0 ] || e2e_check_fail "part 2: flowrw exited $F_RC, want 0"
else
	e2e_check_fail "part 2: flowrw did not finish within 180 s"
fi
e2e_stop ts2 10
r5=$(f_testsrv_stat ts2 answered_5xx) r2=$(f_testsrv_stat ts2 answered_2xx)
storm=$($F_SAMPLES storm --testsrv-log "$E2E_TMP/ts2.samples")
e2e_log "part 2: $r2 requests answered 2xx, $r5 answered 503; $storm"
[ -n "$r5" ] && [ "$r5" -gt 0 ] || e2e_check_fail "part 2: no request failed: the storm did not happen"
[ "$(f_kv "$storm" order_violations)" = 0 ] && [ "$(f_testsrv_stat ts2 order_violations)" = 0 ] ||
	e2e_check_fail "part 2: per-series order violated"
[ "$(f_kv "$storm" duplicated_2xx)" = 0 ] || e2e_check_fail "part 2: samples answered 2xx more than once"
f_compare --rows "$E2E_TMP/rows.ndjson" --data-sources $DS --testsrv-log "$E2E_TMP/ts2.samples" ||
	e2e_check_fail "part 2: samples lost or wrong"
f_figure storm_mix "16 lanes, $r5 of $((r5 + r2)) requests answered 503, order violations $(f_kv "$storm" order_violations), lost $(f_kv "$F_CMP" lost)"
e2e_done
