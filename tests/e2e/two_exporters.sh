#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# two_exporters.sh: three encoders, two exporters in one config, one per real receiver,
# with different data sources (network.1s goes to both), export-fields, a tag filter,
# export-empty-metrics-disabled and batch sizes. Each receiver must hold exactly what
# its exporter selects: nothing of the other's, nothing filtered out, every sample once.
. "$(dirname "$0")/lib.sh"
e2e_init two_exporters
e2e_need_receivers prometheus victoria
e2e_need_pipeline
e2e_spawn_prometheus          # both start while the expectations are computed
e2e_spawn_victoria

A_DS=flow_metrics.network.1s,flow_metrics.network_map.1m,flow_metrics.application.1m,flow_metrics.application_map.1s
B_DS=flow_metrics.network.1m,flow_metrics.network_map.1s,flow_metrics.application.1s,flow_metrics.application_map.1m,flow_metrics.network.1s
B_FIELDS='$tag.network_layer,$tag.transport_layer,$metrics.delay,$metrics.throughput,app_service,observation_point'

e2e_rows "$E2E_TMP/rows.ndjson"
e2e_expect "$E2E_TMP/a.tsv" --rows "$E2E_TMP/rows.ndjson" --data-sources "$A_DS" \
	--export-fields '$tag,$metrics' --filter 'server_port in 443,8080'
e2e_expect "$E2E_TMP/b.tsv" --rows "$E2E_TMP/rows.ndjson" --data-sources "$B_DS" \
	--export-fields "$B_FIELDS" --export-empty-metrics-disabled
e2e_wait_prometheus
e2e_wait_victoria

cat >"$E2E_TMP/flowrw.yaml" <<YAML
ingester:
  exporters:
    - protocol: prometheus
      data-sources: [${A_DS//,/, }]
      endpoints: [$PROM_WRITE]
      export-fields: [\$tag, \$metrics]
      tag-filters:
        - field-name: server_port
          operator: in
          field-values: [443, 8080]
      batch-size: 100
      queue-count: 4
      flush-timeout: 1
    - protocol: prometheus
      enabled: true
      data-sources: [${B_DS//,/, }]
      endpoints: [$VM_WRITE]
      export-fields: [${B_FIELDS//,/, }]
      export-empty-metrics-disabled: true
      batch-size: 7
      queue-count: 2
      flush-timeout: 1
$(e2e_flowrw_section "$E2E_TMP/rows.ndjson" 3)
YAML

e2e_run_flowrw "$E2E_TMP/flowrw.yaml" 40
python3 "$E2E_DIR/expect.py" check-prometheus "$E2E_TMP/a.tsv" "$PROM_URL" --wait 5 ||
	e2e_check_fail "exporter 0 (Prometheus) does not hold exactly its series and samples"
python3 "$E2E_DIR/expect.py" check-victoria "$E2E_TMP/b.tsv" "$VM_URL" --wait 20 ||
	e2e_check_fail "exporter 1 (VictoriaMetrics) does not hold exactly its series and samples"
e2e_done
