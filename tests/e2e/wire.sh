#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# wire.sh: the same rows through flowrw-receiver --check --dump, to verify the wire
# itself (Prometheus accepts some violations silently): remote-write 1.0 headers,
# labels sorted/unique/non-empty, __name__, per-series timestamp order across
# requests, no malformed request, and exactly the expected samples, none twice.
. "$(dirname "$0")/lib.sh"
e2e_init wire
e2e_need_pipeline

e2e_rows "$E2E_TMP/rows.ndjson"
e2e_expect "$E2E_TMP/expected.tsv" --rows "$E2E_TMP/rows.ndjson" --data-sources "$E2E_ALL_DS" \
	--export-fields '$tag,$metrics'
e2e_start_receiver receiver --check --quiet --dump "$E2E_TMP/wire.dump"

# Small batches and several lanes: many requests, so ordering across requests is exercised.
cat >"$E2E_TMP/flowrw.yaml" <<YAML
exporters:
  - protocol: prometheus
    data-sources: [${E2E_ALL_DS//,/, }]
    endpoints: [$RCV_URL]
    export-fields: [\$tag, \$metrics]
    batch-size: 20
    queue-count: 3
    flush-timeout: 1
$(e2e_flowrw_section "$E2E_TMP/rows.ndjson" 2)
YAML

e2e_run_flowrw "$E2E_TMP/flowrw.yaml" 40
e2e_stop receiver
grep -E 'total:|check:' "$E2E_TMP/receiver.log" | tail -n 20 >&2
[ "$E2E_STOP_RC" -eq 0 ] ||
	e2e_check_fail "flowrw-receiver --check found violations or bad requests (exit $E2E_STOP_RC), see above"
grep -q 'duplicates=0' "$E2E_TMP/receiver.log" || e2e_check_fail "some samples arrived twice"
python3 "$E2E_DIR/expect.py" check-dump "$E2E_TMP/expected.tsv" "$E2E_TMP/wire.dump" ||
	e2e_check_fail "what arrived on the wire differs from the expected samples"
e2e_done
