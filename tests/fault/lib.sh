# SPDX-License-Identifier: MIT
# lib.sh: helpers for flowrw's fault tests (bash; sourced by tests/fault/*.sh), on top of
# tests/e2e/lib.sh (temporary directory, e2e_spawn/e2e_stop, cleanup traps, free ports).
#
# Everything runs on 127.0.0.1; every wait is bounded.  Processes are signalled by pid
# only: the pipeline's children are found as children of *our* supervisor (pgrep -P),
# never by name across the machine.  Figures a test wants in docs/RELIABILITY.md are
# printed as "FIGURE name value" lines on stderr.

. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

F_DIR=$E2E_ROOT/tests/fault
F_BUILD=${FLOWRW_BUILD:-$E2E_ROOT/build}
F_TESTSRV=$F_BUILD/tests/rw-testsrv
F_SAMPLES="python3 $F_DIR/samples.py"
FLOWRW_PID=
STATS_URL=

f_init() { # NAME
	e2e_init "$1"
	e2e_need_pipeline
	[ -x "$E2E_BIN/flowrw-gen" ] || e2e_fatal "$E2E_BIN/flowrw-gen is missing (make)"
}

f_need_testsrv() {
	[ -x "$F_TESTSRV" ] || e2e_fatal "$F_TESTSRV is missing (make tests-build)"
}

f_figure() { # NAME VALUE...
	e2e_log "FIGURE $*"
}

f_now_ms() { date +%s%3N; }

# f_gen OUT DATA_SOURCE ROWS SERIES: rows with current timestamps; every (series, time)
# distinct (a round of SERIES rows per period).
f_gen() {
	"$E2E_BIN/flowrw-gen" -d "$2" -n "$3" -s "$4" -S "${F_SEED:-$RANDOM}" >"$1" ||
		e2e_fatal "flowrw-gen failed"
}

# f_config OUT ENDPOINT_URL DATA_SOURCE SOURCES_YAML: a config.  Knobs through variables;
# unset ones keep flowrw's defaults: F_QUEUES F_QUEUE_SIZE F_BATCH F_FLUSH F_MIN_BACKOFF
# F_MAX_BACKOFF F_REQ_TIMEOUT (exporter) and F_ENCODERS (2) F_RING (4MiB) F_DRAIN (30).
# SOURCES_YAML is the list under sources:, e.g. '    - {type: file, path: F, follow: false}'.
f_config() {
	local knobs= k v
	for k in queue-count:F_QUEUES queue-size:F_QUEUE_SIZE batch-size:F_BATCH flush-timeout:F_FLUSH \
		min-backoff:F_MIN_BACKOFF max-backoff:F_MAX_BACKOFF request-timeout:F_REQ_TIMEOUT; do
		v=${k#*:}
		[ -n "${!v:-}" ] && knobs+="    ${k%%:*}: ${!v}"$'\n'
	done
	cat >"$1" <<EOF
exporters:
  - protocol: prometheus
    enabled: true
    endpoints: [$2]
    data-sources: [$3]
${knobs}flowrw:
  encoders: ${F_ENCODERS:-2}
  ring-bytes: ${F_RING:-4MiB}
  drain-timeout: ${F_DRAIN:-30}
  stats-listen: 127.0.0.1:0
  log-level: ${F_LOG:-info}
  sources:
$4
EOF
	"$E2E_BIN/flowrw" --check-config "$1" >"$E2E_TMP/check-config.log" 2>&1 ||
		e2e_fatal "generated config is invalid: $(tail -n 3 "$E2E_TMP/check-config.log")"
}

# f_start_flowrw CONFIG: the supervisor in the background; sets FLOWRW_PID and STATS_URL.
f_start_flowrw() {
	local i=0 port=
	e2e_spawn flowrw "$E2E_BIN/flowrw" -c "$1"
	FLOWRW_PID=$(e2e_pid_of flowrw)
	while [ $i -lt 150 ]; do
		port=$(sed -n 's/.*serving \/metrics on .* (port \([0-9]*\)).*/\1/p' "$E2E_TMP/flowrw.log" | head -n 1)
		[ -n "$port" ] && break
		e2e_alive "$FLOWRW_PID" || e2e_fatal "flowrw exited at start: $(tail -n 5 "$E2E_TMP/flowrw.log")"
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$port" ] || e2e_fatal "flowrw did not report its stats port within 15 s"
	STATS_URL=http://127.0.0.1:$port/metrics
}

# f_wait_exit PID SECONDS: wait for a process we started; its status in F_RC (124: timeout).
f_wait_exit() {
	local pid=$1 limit=$(( $2 * 10 )) i=0
	while e2e_alive "$pid" && [ $i -lt "$limit" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if e2e_alive "$pid"; then
		F_RC=124
		return 1
	fi
	wait "$pid" 2>/dev/null
	F_RC=$?
	return 0
}

# f_scrape [OUT]: the supervisor's /metrics page (to OUT or stdout).
f_scrape() {
	if [ $# -gt 0 ]; then
		curl -sf --max-time 3 "$STATS_URL" >"$1"
	else
		curl -sf --max-time 3 "$STATS_URL"
	fi
}

# f_metric SERIES [FILE]: value of one exact series (name{labels} as printed), or of the
# sum over every series of a family when SERIES has no braces; empty if absent.
f_metric() {
	local page
	if [ $# -gt 1 ]; then page=$(cat "$2"); else page=$(f_scrape) || return 1; fi
	printf '%s\n' "$page" | awk -v s="$1" '
		index(s, "{") && $1 == s { print $2; found = 1; exit }
		!index(s, "{") && ($1 == s || index($1, s "{") == 1) { sum += $2; found = 1 }
		END { if (found && !index(s, "{")) printf "%.0f\n", sum }'
}

# f_child NAME: pid of our supervisor's live child with that process name.
f_child() {
	local p
	for p in $(pgrep -P "$FLOWRW_PID" -x "$1" 2>/dev/null); do
		[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && { echo "$p"; return 0; }
	done
	return 1
}

# f_rss_kb: resident memory of the supervisor and all its children, in KiB.
f_rss_kb() {
	local p sum=0 r
	for p in "$FLOWRW_PID" $(pgrep -P "$FLOWRW_PID" 2>/dev/null); do
		r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${r:-0}))
	done
	echo "$sum"
}

# f_start_testsrv NAME ARGS...: rw-testsrv on a free port; sets TS_URL and TS_PORT.
f_start_testsrv() {
	local name=$1 i=0 pid
	shift
	f_need_testsrv
	"$F_TESTSRV" "$@" >"$E2E_TMP/$name.port" 2>"$E2E_TMP/$name.log" &
	E2E_PROCS+=("$! $name")
	pid=$!
	while ! grep -qE '^[0-9]+$' "$E2E_TMP/$name.port" 2>/dev/null && [ $i -lt 100 ]; do
		e2e_alive "$pid" || e2e_fatal "rw-testsrv exited at start: $(tail -n 3 "$E2E_TMP/$name.log")"
		sleep 0.1
		i=$((i + 1))
	done
	TS_PORT=$(head -n 1 "$E2E_TMP/$name.port")
	[ -n "$TS_PORT" ] || e2e_fatal "rw-testsrv did not print its port within 10 s"
	TS_URL=http://127.0.0.1:$TS_PORT/api/v1/write
}

# f_testsrv_stat NAME KEY: a value of rw-testsrv's --stats file $E2E_TMP/NAME.stats.
f_testsrv_stat() {
	awk -v k="$2" '$1 == k {print $2}' "$E2E_TMP/$1.stats" 2>/dev/null
}

# f_kv TEXT KEY: the value of KEY=value in a line of key=value words.
f_kv() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# f_compare ARGS...: samples.py compare; prints its key=value line to stdout, and sets F_CMP.
f_compare() {
	F_CMP=$($F_SAMPLES compare "$@" 2>"$E2E_TMP/compare.err")
	local rc=$?
	e2e_log "samples: $F_CMP"
	[ -s "$E2E_TMP/compare.err" ] && sed 's/^/    /' "$E2E_TMP/compare.err" >&2
	return $rc
}
