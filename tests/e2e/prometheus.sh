#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# prometheus.sh: rows of all 8 data sources from a file, one exporter to a real
# Prometheus; flowrw exits by itself after draining; Prometheus must then hold
# exactly the expected series (labels and all) and every sample once, nothing else.
. "$(dirname "$0")/lib.sh"
e2e_init prometheus
e2e_need_receivers prometheus
e2e_need_pipeline
e2e_spawn_prometheus          # it starts while the expectation is computed

e2e_rows "$E2E_TMP/rows.ndjson"
e2e_expect "$E2E_TMP/expected.tsv" --rows "$E2E_TMP/rows.ndjson" --data-sources "$E2E_ALL_DS" \
	--export-fields '$tag,$metrics'
e2e_wait_prometheus

cat >"$E2E_TMP/flowrw.yaml" <<YAML
exporters:
  - protocol: prometheus
    enabled: true
    data-sources: [${E2E_ALL_DS//,/, }]
    endpoints: [$PROM_WRITE]
    export-fields: [\$tag, \$metrics]
    batch-size: 256
    flush-timeout: 1
$(e2e_flowrw_section "$E2E_TMP/rows.ndjson" 2)
YAML

e2e_run_flowrw "$E2E_TMP/flowrw.yaml" 40
python3 "$E2E_DIR/expect.py" check-prometheus "$E2E_TMP/expected.tsv" "$PROM_URL" --wait 5 ||
	e2e_check_fail "Prometheus does not hold exactly the expected series and samples"
e2e_done
