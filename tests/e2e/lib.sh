# SPDX-License-Identifier: MIT
# lib.sh: helpers for flowrw's end-to-end tests (bash; sourced by tests/e2e/*.sh).
#
# Everything listens on 127.0.0.1 only, every wait is bounded, and every process
# a test starts is stopped by its pid when the script exits, whatever happens.
# A test exits 0 (pass), 77 (skip: Prometheus or VictoriaMetrics not installed)
# or 1 (fail). Set E2E_KEEP=1 to keep the temporary directory of a failed run.

set -u -o pipefail

E2E_ROOT=${FLOWRW_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
E2E_BIN=${FLOWRW_BIN:-$E2E_ROOT/bin}
E2E_DIR=$E2E_ROOT/tests/e2e
E2E_FIXTURE=$E2E_ROOT/tests/data/e2e/rows.ndjson
E2E_PROMETHEUS=${E2E_PROMETHEUS:-/usr/bin/prometheus}
E2E_VICTORIA=${E2E_VICTORIA:-/usr/bin/victoria-metrics}
E2E_NAME=e2e
E2E_TMP=
E2E_FAILS=0
E2E_PROCS=()          # "pid name" of everything started, in start order
E2E_STOP_RC=0

# All eight data sources of the fixture.
E2E_ALL_DS=flow_metrics.network.1s,flow_metrics.network.1m,flow_metrics.network_map.1s,flow_metrics.network_map.1m,flow_metrics.application.1s,flow_metrics.application.1m,flow_metrics.application_map.1s,flow_metrics.application_map.1m

e2e_log() { printf '%s: %s\n' "$E2E_NAME" "$*" >&2; }
e2e_skip() { e2e_log "SKIP: $*"; exit 77; }
e2e_fatal() { e2e_log "FAIL: $*"; exit 1; }

# Record a failed check and go on, so one run reports everything it can.
e2e_check_fail() {
	E2E_FAILS=$((E2E_FAILS + 1))
	e2e_log "FAIL: $*"
}

e2e_done() {
	if [ "$E2E_FAILS" -gt 0 ]; then
		e2e_log "$E2E_FAILS check(s) failed"
		exit 1
	fi
	e2e_log "ok ($(( $(date +%s) - E2E_T0 ))s)"
	exit 0
}

# e2e_init NAME: temporary directory, traps, common requirements.
e2e_init() {
	E2E_NAME=$1
	E2E_T0=$(date +%s)
	E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/flowrw-e2e-$1.XXXXXX") || exit 1
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	command -v python3 >/dev/null || e2e_fatal "python3 is missing (run make deps)"
	command -v curl >/dev/null || e2e_fatal "curl is missing (run make deps)"
	[ -f "$E2E_FIXTURE" ] || e2e_fatal "fixture $E2E_FIXTURE is missing"
}

# Is process <pid> still running (and not a zombie we have not reaped)?
e2e_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}

# e2e_stop_pid PID [SECONDS]: SIGTERM, wait up to SECONDS (default 10), then SIGKILL.
# Sets E2E_STOP_RC to the exit status (128+signal when killed).
e2e_stop_pid() {
	local pid=$1 limit=$(( ${2:-10} * 10 )) i=0
	if e2e_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		while e2e_alive "$pid" && [ $i -lt "$limit" ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if e2e_alive "$pid"; then
			e2e_log "pid $pid ignored SIGTERM for $(( limit / 10 ))s, killing it"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	E2E_STOP_RC=$?
}

e2e_pid_of() { # NAME -> pid of the last process started under that name
	local p pid= name
	for p in "${E2E_PROCS[@]}"; do
		name=${p#* }
		[ "$name" = "$1" ] && pid=${p%% *}
	done
	[ -n "$pid" ] && echo "$pid"
}

# e2e_stop NAME [SECONDS]: stop a process started with e2e_spawn; its status in E2E_STOP_RC.
e2e_stop() {
	local pid
	pid=$(e2e_pid_of "$1") || { E2E_STOP_RC=255; return; }
	e2e_stop_pid "$pid" "${2:-10}"
}

e2e_cleanup() {
	local rc=$? p i
	trap - EXIT INT TERM
	# Stop in reverse start order: senders before receivers.
	for (( i=${#E2E_PROCS[@]}-1; i>=0; i-- )); do
		p=${E2E_PROCS[$i]}
		e2e_alive "${p%% *}" && e2e_stop_pid "${p%% *}" 10
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$E2E_TMP" ]; then
		for f in "$E2E_TMP"/*.log; do
			[ -s "$f" ] || continue
			echo "----- $(basename "$f") (last 25 lines) -----" >&2
			tail -n 25 "$f" >&2
		done
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			e2e_log "kept $E2E_TMP"
			exit "$rc"
		fi
	fi
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	exit "$rc"
}

# e2e_spawn NAME CMD...: start CMD in the background, output in $E2E_TMP/NAME.log.
e2e_spawn() {
	local name=$1
	shift
	"$@" >"$E2E_TMP/$name.log" 2>&1 &
	E2E_PROCS+=("$! $name")
}

# A port that was free on 127.0.0.1 a moment ago (callers retry on a clash).
e2e_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# e2e_wait_http URL SECONDS PID: until URL answers 2xx; fails early if PID exits.
e2e_wait_http() {
	local url=$1 limit=$(( $2 * 10 )) pid=$3 i=0
	while [ $i -lt "$limit" ]; do
		curl -sf -o /dev/null --max-time 1 "$url" && return 0
		e2e_alive "$pid" || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

e2e_need_receivers() { # prometheus|victoria...
	local r
	for r in "$@"; do
		case $r in
		prometheus) [ -x "$E2E_PROMETHEUS" ] ||
			e2e_skip "$E2E_PROMETHEUS is not installed (Debian package prometheus; run make deps as root)" ;;
		victoria) [ -x "$E2E_VICTORIA" ] ||
			e2e_skip "$E2E_VICTORIA is not installed (Debian package victoria-metrics; run make deps as root)" ;;
		esac
	done
}

e2e_need_pipeline() {
	local b
	for b in flowrw flowrw-ingest flowrw-encoder flowrw-sender; do
		[ -x "$E2E_BIN/$b" ] || e2e_fatal "$E2E_BIN/$b is missing: the pipeline is not built (make)"
	done
}

e2e_need_receiver_tool() {
	[ -x "$E2E_BIN/flowrw-receiver" ] || e2e_fatal "$E2E_BIN/flowrw-receiver is missing (make)"
}

# The real receivers start slowly on a busy machine, so a test may spawn them
# first (e2e_spawn_prometheus, e2e_spawn_victoria), do its own preparation
# meanwhile, and then wait (e2e_wait_prometheus, e2e_wait_victoria). A receiver
# that does not become ready (e.g. its free port was taken meanwhile) is started
# again on another port, three tries in all. e2e_start_* = spawn + wait.

# Prometheus 2.x with the remote-write receiver, fresh TSDB. Sets PROM_URL, PROM_WRITE.
_e2e_spawn_prometheus_once() {
	local dir=$E2E_TMP/prometheus
	rm -rf "$dir/data"
	E2E_PROM_PORT=$(e2e_free_port)
	E2E_PROM_T0=$(date +%s)
	e2e_spawn prometheus "$E2E_PROMETHEUS" --web.enable-remote-write-receiver \
		--web.listen-address="127.0.0.1:$E2E_PROM_PORT" --storage.tsdb.path="$dir/data" \
		--config.file="$dir/empty.yml" --log.level=warn
}
e2e_spawn_prometheus() {
	mkdir -p "$E2E_TMP/prometheus"
	printf 'global:\n  scrape_interval: 1m\n' >"$E2E_TMP/prometheus/empty.yml"
	_e2e_spawn_prometheus_once
}
e2e_wait_prometheus() {
	local try pid
	for try in 1 2 3; do
		pid=$(e2e_pid_of prometheus)
		if e2e_wait_http "http://127.0.0.1:$E2E_PROM_PORT/-/ready" 45 "$pid"; then
			PROM_URL=http://127.0.0.1:$E2E_PROM_PORT
			PROM_WRITE=$PROM_URL/api/v1/write
			e2e_log "Prometheus ready on port $E2E_PROM_PORT after $(( $(date +%s) - E2E_PROM_T0 ))s"
			return 0
		fi
		e2e_stop_pid "$pid" 5
		e2e_log "Prometheus did not start on port $E2E_PROM_PORT (try $try): $(tail -n 2 "$E2E_TMP/prometheus.log")"
		[ $try -lt 3 ] && _e2e_spawn_prometheus_once
	done
	e2e_fatal "Prometheus did not become ready; see prometheus.log"
}
e2e_start_prometheus() {
	e2e_spawn_prometheus
	e2e_wait_prometheus
}

# VictoriaMetrics single node, fresh storage. Sets VM_URL, VM_WRITE.
_e2e_spawn_victoria_once() {
	local dir=$E2E_TMP/victoria
	rm -rf "$dir/data"
	E2E_VM_PORT=$(e2e_free_port)
	E2E_VM_T0=$(date +%s)
	# application_map series carry up to 59 labels; the default limit (30) would drop some.
	e2e_spawn victoria "$E2E_VICTORIA" -httpListenAddr="127.0.0.1:$E2E_VM_PORT" \
		-storageDataPath="$dir/data" -maxLabelsPerTimeseries=100 -loggerLevel=WARN \
		-retentionPeriod=100y
}
e2e_spawn_victoria() {
	mkdir -p "$E2E_TMP/victoria"
	_e2e_spawn_victoria_once
}
e2e_wait_victoria() {
	local try pid
	for try in 1 2 3; do
		pid=$(e2e_pid_of victoria)
		if e2e_wait_http "http://127.0.0.1:$E2E_VM_PORT/health" 45 "$pid"; then
			VM_URL=http://127.0.0.1:$E2E_VM_PORT
			VM_WRITE=$VM_URL/api/v1/write
			e2e_log "VictoriaMetrics ready on port $E2E_VM_PORT after $(( $(date +%s) - E2E_VM_T0 ))s"
			return 0
		fi
		e2e_stop_pid "$pid" 5
		e2e_log "VictoriaMetrics did not start on port $E2E_VM_PORT (try $try): $(tail -n 2 "$E2E_TMP/victoria.log")"
		[ $try -lt 3 ] && _e2e_spawn_victoria_once
	done
	e2e_fatal "VictoriaMetrics did not become ready; see victoria.log"
}
e2e_start_victoria() {
	e2e_spawn_victoria
	e2e_wait_victoria
}

# e2e_start_receiver NAME ARGS...: bin/flowrw-receiver on a free port. Sets RCV_URL.
e2e_start_receiver() {
	local name=$1 pf=$E2E_TMP/$1.port i=0 pid
	shift
	e2e_need_receiver_tool
	rm -f "$pf"
	e2e_spawn "$name" "$E2E_BIN/flowrw-receiver" --listen 127.0.0.1:0 --port-file "$pf" "$@"
	pid=$(e2e_pid_of "$name")
	while [ ! -s "$pf" ] && [ $i -lt 100 ]; do
		e2e_alive "$pid" || e2e_fatal "flowrw-receiver exited at start; see $name.log: $(tail -n 3 "$E2E_TMP/$name.log")"
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$pf" ] || e2e_fatal "flowrw-receiver did not report its port within 10s"
	RCV_URL=http://127.0.0.1:$(cat "$pf")/receive
}

# e2e_rows OUT: the fixture with its times moved to the last minutes (Prometheus
# refuses samples older than its head block, about an hour).
e2e_rows() {
	python3 "$E2E_DIR/expect.py" shift "$E2E_FIXTURE" "$1" || e2e_fatal "cannot prepare the fixture"
}

# e2e_expect OUT ARGS...: expected samples (see expect.py series).
e2e_expect() {
	local out=$1
	shift
	python3 "$E2E_DIR/expect.py" series --out "$out" "$@" || e2e_fatal "expect.py series failed"
}

# e2e_run_flowrw CONFIG SECONDS: run the pipeline in batch mode (it must exit 0 by itself).
e2e_run_flowrw() {
	local cfg=$1 limit=$2 rc log=$E2E_TMP/flowrw.log t0
	t0=$(date +%s)
	timeout -k 5 "$limit" "$E2E_BIN/flowrw" -c "$cfg" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		e2e_check_fail "flowrw did not exit by itself within ${limit}s after its file source ended (batch mode); last lines:"
		tail -n 15 "$log" >&2
	elif [ $rc -ne 0 ]; then
		e2e_check_fail "flowrw exited with status $rc; last lines:"
		tail -n 15 "$log" >&2
	else
		e2e_log "flowrw drained and exited 0 in $(( $(date +%s) - t0 ))s"
	fi
	return $rc
}

# The flowrw: section every generated config shares: the file source, no stats port.
e2e_flowrw_section() { # ROWS ENCODERS
	cat <<EOF
flowrw:
  encoders: $2
  ring-bytes: 4MiB
  drain-timeout: 20
  stats-listen: ""
  log-level: info
  sources:
    - {type: file, path: "$1", follow: false}
EOF
}
