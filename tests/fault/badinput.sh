#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# badinput.sh: a stream mixing valid rows with every malformed class and random bytes:
# every valid row is delivered, every bad one counted by reason, and nothing stops.
#
# N valid flow_metrics.network.1s rows, and after each of them (round robin) one bad line
# of a class: malformed JSON (truncated object, bare word, missing colon), longer
# than max-line-bytes (64 KiB), unknown data source, wrong type (a metric as a string, a
# time as an object), missing time, missing data source, random bytes (no newline).  The
# file goes through flowrw (batch mode) to flowrw-receiver.  Checks: flowrw exits 0;
# flowrw_ingest_rejected_rows_total{reason} equals the lines written of each class
# (random bytes must count as malformed_json or line_too_long: their sum is checked);
# the rows counter equals N; the receiver got exactly the valid rows' samples.
. "$(dirname "$0")/lib.sh"
f_init "${1:-badinput}"
DS=flow_metrics.network.1s
N=400
f_gen "$E2E_TMP/valid.ndjson" $DS $N $N
python3 - "$E2E_TMP/valid.ndjson" "$E2E_TMP/mixed.ndjson" "$E2E_TMP/classes" <<'EOF'
import json, os, random, sys
valid = open(sys.argv[1], encoding="utf-8").read().splitlines()
rnd = random.Random(os.getpid())
row = json.loads(valid[0])
def variant(**change):
    r = dict(row)
    for k, v in change.items():
        if v is None:
            r.pop(k, None)
        else:
            r[k] = v
    return json.dumps(r)
def random_bytes():
    b = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 400)))
    return b.replace(b"\n", b" ")
classes = [
    ("malformed_json", lambda: valid[0][: len(valid[0]) // 2].encode()),
    ("malformed_json", lambda: b"hello world"),
    ("malformed_json", lambda: b'{"datasource" "flow_metrics.network.1s", "time": 1}'),
    ("line_too_long", lambda: ('{"datasource":"%s","pad":"%s"}' % (row["datasource"], "x" * 70000)).encode()),
    ("unknown_datasource", lambda: variant(datasource="flow_metrics.nothing.1s").encode()),
    ("wrong_type", lambda: variant(packet_tx="many").encode()),
    ("wrong_type", lambda: variant(time={"sec": 1}).encode()),
    ("missing_time", lambda: variant(time=None).encode()),
    ("missing_datasource", lambda: variant(datasource=None).encode()),
    ("random", random_bytes),
]
counts = {}
with open(sys.argv[2], "wb") as out:
    for i, line in enumerate(valid):
        out.write(line.encode() + b"\n")
        cls, make = classes[i % len(classes)]
        out.write(make() + b"\n")
        counts[cls] = counts.get(cls, 0) + 1
with open(sys.argv[3], "w") as f:
    for k, v in sorted(counts.items()):
        f.write("%s %d\n" % (k, v))
EOF
[ -s "$E2E_TMP/classes" ] || e2e_fatal "could not build the mixed input"
e2e_start_receiver rcv --quiet --dump "$E2E_TMP/rcv.dump"
F_ENCODERS=2 F_FLUSH=1
f_config "$E2E_TMP/flowrw.yaml" "$RCV_URL" $DS \
	"    - {type: file, path: \"$E2E_TMP/mixed.ndjson\", follow: false, max-line-bytes: 64KiB}"
f_start_flowrw "$E2E_TMP/flowrw.yaml"
# Scrape until the file is exhausted and every row went through (batch mode then exits).
i=0
while [ $i -lt 600 ]; do
	f_scrape "$E2E_TMP/m.tmp" && mv "$E2E_TMP/m.tmp" "$E2E_TMP/m.last"
	[ "$(f_metric 'flowrw_source_exhausted{source="0",type="file"}' "$E2E_TMP/m.last")" = 1 ] && break
	e2e_alive "$FLOWRW_PID" || break
	sleep 0.1
	i=$((i + 1))
done
if f_wait_exit "$FLOWRW_PID" 120; then
	[ "$F_RC" -eq 0 ] || e2e_check_fail "flowrw exited $F_RC on bad input, want 0"
else
	e2e_check_fail "flowrw did not finish the mixed file within 120 s"
fi
e2e_stop rcv 10
[ -s "$E2E_TMP/m.last" ] || e2e_fatal "no /metrics page was scraped"
want() { awk -v k="$1" '$1 == k {print $2}' "$E2E_TMP/classes"; }
rej() { f_metric "flowrw_ingest_rejected_rows_total{reason=\"$1\"}" "$E2E_TMP/m.last"; }
summary=
for reason in malformed_json line_too_long unknown_datasource wrong_type missing_time missing_datasource; do
	w=$(want $reason) got=$(rej $reason)
	summary+=" $reason=$got"
	[ "$reason" = malformed_json ] || [ "$reason" = line_too_long ] && continue
	[ "$got" = "${w:-0}" ] || e2e_check_fail "rejected{reason=$reason} = '$got', want ${w:-0}"
done
w=$(( $(want malformed_json) + $(want line_too_long) + $(want random) ))
got=$(( $(rej malformed_json) + $(rej line_too_long) ))
[ "$got" -eq "$w" ] || e2e_check_fail "malformed_json + line_too_long = $got, want $w (incl. $(want random) lines of random bytes)"
[ "$(rej line_too_long)" -ge "$(want line_too_long)" ] || e2e_check_fail "line_too_long = $(rej line_too_long), want >= $(want line_too_long)"
rows=$(f_metric flowrw_ingest_rows_total "$E2E_TMP/m.last")
total_rej=$(f_metric flowrw_ingest_rejected_rows_total "$E2E_TMP/m.last")
e2e_log "rows $rows, rejected $total_rej:$summary"
[ "$rows" = "$N" ] || e2e_check_fail "flowrw_ingest_rows_total = $rows, want the $N valid rows"
[ "$total_rej" = "$N" ] || e2e_check_fail "flowrw_ingest_rejected_rows_total = $total_rej, want the $N bad lines"
f_compare --rows "$E2E_TMP/valid.ndjson" --data-sources $DS --dump "$E2E_TMP/rcv.dump" ||
	e2e_check_fail "valid rows' samples lost or wrong among bad input"
[ "$(f_kv "$F_CMP" duplicated)" = 0 ] || e2e_check_fail "duplicated samples without any fault"
f_figure badinput "$N valid rows, $total_rej bad lines:$summary; samples $(f_kv "$F_CMP" expected), lost $(f_kv "$F_CMP" lost)"
e2e_done
