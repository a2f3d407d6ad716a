#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# outage.sh: the endpoint goes away under load and comes back; nothing is lost, the
# ingest pushes back while the rings are full, delivery resumes within 1 s.
#
# flowrw (file source, batch mode, 8 lanes, min-backoff 0.03 s, max-backoff 2 s) sends
# flow_metrics.network.1s rows to flowrw-receiver.  (Each lane retries after a delay
# drawn uniformly up to the backoff cap, so with flowrw's default max-backoff of 5 s the
# first retry after the endpoint's return is not bounded by 1 s: about 3 % of the time
# all 8 lanes wait longer.  With a 2 s cap the 1 s bound holds but for ~1e-5.)  Once
# delivery is under way the receiver is stopped (connection refused: a real outage)
# for OUTAGE seconds.  During the outage: nothing more is delivered, the ingest stops
# reading (its row count stands still in the second half of the outage, the file is
# not exhausted) and flowrw_ingest_ring_full_waits_total grows.  Then a receiver
# listens on the same port again and the time until flowrw_exporter_sent_samples_total
# grows is measured (a 10 ms poll of /metrics): it must be under 1 s.  flowrw then
# finishes the file and exits 0; the two receivers' dumps together must hold every
# expected sample (lost = 0; duplicates counted).
#
# make test: a 4 s outage (FAULT_OUTAGE_SECONDS); long_outage.sh: 30 s.
. "$(dirname "$0")/lib.sh"
f_init "${1:-outage}"
OUTAGE=${FAULT_OUTAGE_SECONDS:-4}
DS=flow_metrics.network.1s
ROWS=${FAULT_OUTAGE_ROWS:-5000}
F_ENCODERS=2 F_RING=512KiB F_QUEUE_SIZE=4096 F_FLUSH=1 F_DRAIN=60 F_MAX_BACKOFF=2
f_gen "$E2E_TMP/rows.ndjson" $DS "$ROWS" $((ROWS / 2))
e2e_start_receiver rcv1 --quiet --dump "$E2E_TMP/rcv1.dump"
PORT=$(cat "$E2E_TMP/rcv1.port")
f_config "$E2E_TMP/flowrw.yaml" "$RCV_URL" $DS \
	"    - {type: file, path: \"$E2E_TMP/rows.ndjson\", follow: false, max-line-bytes: 64KiB}"
f_start_flowrw "$E2E_TMP/flowrw.yaml"
SENT='flowrw_exporter_sent_samples_total{exporter="0"}'
ROWS_IN='flowrw_source_rows_total{source="0",type="file"}'
EXH='flowrw_source_exhausted{source="0",type="file"}'

python3 "$F_DIR/watch.py" --stats "$STATS_URL" --series "$SENT" --above 20000 --timeout 60 >/dev/null ||
	e2e_fatal "flowrw delivered nothing in 60 s"
e2e_stop rcv1 10
t_down=$(f_now_ms)
SENT_down=$(f_metric "$SENT")
e2e_log "receiver stopped after $SENT_down samples; outage of ${OUTAGE}s"
# The watcher of the recovery starts now (python is slow to start on a loaded machine):
# it times from the moment the second receiver's port file appears (written once it
# listens) to the first scrape of /metrics showing new deliveries (10 ms polls).
pf=$E2E_TMP/rcv2.port
python3 "$F_DIR/watch.py" --stats "$STATS_URL" --series "$SENT" --above start \
	--timeout $((OUTAGE + 30)) --start-file "$pf" >"$E2E_TMP/watch.out" 2>&1 &
wpid=$!
sleep 1
f_scrape "$E2E_TMP/m.down1"
sleep $(( OUTAGE / 2 > 1 ? OUTAGE / 2 - 1 : 0 ))
f_scrape "$E2E_TMP/m.mid"
while [ $(( $(f_now_ms) - t_down )) -lt $(( OUTAGE * 1000 )) ]; do sleep 0.05; done
f_scrape "$E2E_TMP/m.end"
for v in SENT ROWS_IN EXH; do
	for m in down1 mid end; do
		eval "${v}_$m=\$(f_metric \"\$$v\" \"\$E2E_TMP/m.$m\")"
	done
done
waits_down=$(f_metric flowrw_ingest_ring_full_waits_total "$E2E_TMP/m.down1")
waits_end=$(f_metric flowrw_ingest_ring_full_waits_total "$E2E_TMP/m.end")
up_end=$(f_metric flowrw_endpoint_up "$E2E_TMP/m.end")
ring_used=$(f_metric flowrw_ring_used_bytes "$E2E_TMP/m.end")
e2e_log "during the outage: sent $SENT_down1 -> $SENT_end, rows read $ROWS_IN_down1 -> $ROWS_IN_mid -> $ROWS_IN_end, ring_full_waits $waits_down -> $waits_end, ring bytes used $ring_used"
[ "$SENT_down1" = "$SENT_end" ] || e2e_check_fail "samples were 'delivered' while the endpoint was down ($SENT_down1 -> $SENT_end)"
[ "$ROWS_IN_mid" = "$ROWS_IN_end" ] || e2e_check_fail "the ingest kept reading during the outage ($ROWS_IN_mid -> $ROWS_IN_end rows): no backpressure"
[ "$EXH_end" = 0 ] || e2e_check_fail "the file was read to its end during the outage: make it larger (FAULT_OUTAGE_ROWS)"
[ -n "$waits_end" ] && [ -n "$waits_down" ] && [ "$waits_end" -gt "$waits_down" ] ||
	e2e_check_fail "flowrw_ingest_ring_full_waits_total did not grow during the outage ($waits_down -> $waits_end)"
[ "$up_end" = 0 ] || e2e_check_fail "flowrw_endpoint_up is '$up_end' during the outage, want 0"

# The endpoint comes back on the same port.
e2e_alive "$FLOWRW_PID" || e2e_check_fail "flowrw died during the outage"
e2e_spawn rcv2 "$E2E_BIN/flowrw-receiver" --listen "127.0.0.1:$PORT" --port-file "$pf" --quiet --dump "$E2E_TMP/rcv2.dump"
wait $wpid
w=$(cat "$E2E_TMP/watch.out")
if [ "$w" = timeout ] || [ -z "$w" ] || [ ! -s "$pf" ]; then
	e2e_check_fail "no delivery within 30 s of the endpoint's return ($w; $(tail -n 2 "$E2E_TMP/rcv2.log"))"
	recovery=timeout
else
	recovery=${w%% *}
	e2e_log "delivery resumed $recovery ms after the endpoint came back"
	[ "$recovery" -lt 1000 ] || e2e_check_fail "delivery resumed $recovery ms after the endpoint came back (> 1 s)"
fi
if f_wait_exit "$FLOWRW_PID" 120; then
	[ "$F_RC" -eq 0 ] || e2e_check_fail "flowrw exited $F_RC, want 0"
else
	e2e_check_fail "flowrw did not finish the file within 120 s after the outage"
fi
e2e_stop rcv2 30
f_compare --rows "$E2E_TMP/rows.ndjson" --data-sources $DS --dump "$E2E_TMP/rcv1.dump" --dump "$E2E_TMP/rcv2.dump" ||
	e2e_check_fail "samples lost or wrong across the outage"
f_figure outage_seconds "$OUTAGE"
f_figure recovery_ms "$recovery"
f_figure ring_full_waits "$waits_down -> $waits_end"
f_figure samples "$(f_kv "$F_CMP" expected)"
f_figure lost "$(f_kv "$F_CMP" lost)"
f_figure duplicated "$(f_kv "$F_CMP" duplicated)"
e2e_done
