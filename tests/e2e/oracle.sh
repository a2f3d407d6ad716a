#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# oracle.sh: the test harness checked without flowrw. A known-good sender (rwsend.py)
# writes the expected samples to flowrw-receiver, Prometheus and VictoriaMetrics, and
# expect.py must find them identical; deliberate violations and malformed requests
# must be caught by flowrw-receiver --check (400, counted, no crash); a tampered
# expectation must be reported as a mismatch. If this fails, the other e2e tests
# prove nothing.
. "$(dirname "$0")/lib.sh"
e2e_init oracle
e2e_need_receivers prometheus victoria
PY="python3 $E2E_DIR"
e2e_spawn_prometheus          # both start while parts 1-3 run
e2e_spawn_victoria

e2e_rows "$E2E_TMP/rows.ndjson"
e2e_expect "$E2E_TMP/expected.tsv" --rows "$E2E_TMP/rows.ndjson" --data-sources "$E2E_ALL_DS"

# 1. A clean stream, with chunked bodies of uneven chunk sizes: identical dump, no violation.
e2e_start_receiver good --check --quiet --dump "$E2E_TMP/good.dump"
$PY/rwsend.py "$E2E_TMP/expected.tsv" "$RCV_URL" --batch 37 --chunked >&2 ||
	e2e_check_fail "rwsend to flowrw-receiver failed"
e2e_stop good
[ "$E2E_STOP_RC" -eq 0 ] || e2e_check_fail "flowrw-receiver --check flagged a clean stream (exit $E2E_STOP_RC)"
$PY/expect.py check-dump "$E2E_TMP/expected.tsv" "$E2E_TMP/good.dump" ||
	e2e_check_fail "the receiver's dump differs from what was sent"

# 2. Negative controls: the comparison must notice a lost sample and a changed value.
sed '5d' "$E2E_TMP/expected.tsv" >"$E2E_TMP/lost.tsv"
$PY/expect.py check-dump "$E2E_TMP/lost.tsv" "$E2E_TMP/good.dump" >/dev/null &&
	e2e_check_fail "check-dump did not notice an extra sample"
awk -F'\t' 'BEGIN{OFS="\t"} NR==7{$3=$3+1} {print}' "$E2E_TMP/expected.tsv" >"$E2E_TMP/changed.tsv"
$PY/expect.py check-dump "$E2E_TMP/changed.tsv" "$E2E_TMP/good.dump" >/dev/null &&
	e2e_check_fail "check-dump did not notice a wrong value"

# 3. Violations and malformed requests: each caught, answered 400, the receiver survives.
e2e_start_receiver bad --check --quiet
for rule in unsorted empty-value no-name headers out-of-order; do
	$PY/rwsend.py "$E2E_TMP/expected.tsv" "$RCV_URL" --batch 500 --break $rule >/dev/null ||
		e2e_check_fail "rwsend --break $rule: the receiver refused the request"
done
post() { # body-file -> HTTP status
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Encoding: snappy' \
		-H 'Content-Type: application/x-protobuf' --data-binary @"$1" "$RCV_URL"
}
head -c 5000 /dev/urandom >"$E2E_TMP/random.bin"
printf '\x0a\x08\x00garbage' >"$E2E_TMP/badproto.bin"      # snappy literal of a broken protobuf
printf '\xff\xff\xff\xff\x0f' >"$E2E_TMP/huge.bin"           # claims 4 GiB uncompressed
for f in random badproto huge; do
	code=$(post "$E2E_TMP/$f.bin")
	case $code in 400|413) ;; *) e2e_check_fail "malformed body '$f' got HTTP $code, want 400/413" ;; esac
done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Transfer-Encoding: chunked' \
	--data-binary @"$E2E_TMP/random.bin" "${RCV_URL%/receive}/elsewhere")
[ "$code" = 404 ] || e2e_check_fail "wrong path got HTTP $code, want 404"
e2e_alive "$(e2e_pid_of bad)" || e2e_check_fail "flowrw-receiver died on malformed input"
e2e_stop bad
[ "$E2E_STOP_RC" -eq 1 ] || e2e_check_fail "flowrw-receiver --check exited $E2E_STOP_RC after violations, want 1"
for class in labels-unsorted label-value-empty name-missing header-content-type \
	header-remote-write-version header-user-agent sample-out-of-order; do
	grep -q "check: $class=" "$E2E_TMP/bad.log" ||
		e2e_check_fail "flowrw-receiver --check did not count $class"
done
grep -q 'bad_requests=4 ' "$E2E_TMP/bad.log" ||
	e2e_check_fail "want 4 bad requests counted (3 bodies, 1 path): $(grep 'total:' "$E2E_TMP/bad.log")"

# 4. The real receivers, through their query APIs.
e2e_wait_prometheus
e2e_wait_victoria
$PY/rwsend.py "$E2E_TMP/expected.tsv" "$PROM_WRITE" --batch 100 >&2 || e2e_check_fail "rwsend to Prometheus failed"
$PY/rwsend.py "$E2E_TMP/expected.tsv" "$VM_WRITE" --batch 100 >&2 || e2e_check_fail "rwsend to VictoriaMetrics failed"
$PY/expect.py check-prometheus "$E2E_TMP/expected.tsv" "$PROM_URL" --wait 10 ||
	e2e_check_fail "Prometheus does not hold exactly what was sent"
$PY/expect.py check-victoria "$E2E_TMP/expected.tsv" "$VM_URL" --wait 20 ||
	e2e_check_fail "VictoriaMetrics does not hold exactly what was sent"
$PY/expect.py check-prometheus "$E2E_TMP/lost.tsv" "$PROM_URL" --wait 0 >/dev/null &&
	e2e_check_fail "check-prometheus did not notice an extra sample"
e2e_done
