#!/usr/bin/env bash
# Compare the hand-written row scanner with libjansson (Debian's
# libjansson-dev) on the same rows.  Only this benchmark uses jansson;
# flowrw itself never links it.  Installs libjansson-dev when run as root
# with apt-get; otherwise, or when that fails, skips with exit 77.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/include/jansson.h ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ingest_parse_jansson: installing libjansson-dev" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjansson-dev >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjansson-dev >/dev/null 2>&1; } || true
  fi
  if [ ! -f /usr/include/jansson.h ]; then
    echo "ingest_parse_jansson: SKIP: libjansson-dev is not installed and could not be (apt-get install libjansson-dev as root)" >&2
    exit 77
  fi
fi
make --no-print-directory build/libflowrw.a build/bench/ingest_parse >/dev/null
cc -std=gnu11 -O2 -g -D_GNU_SOURCE -I. -Wall -Wextra -Werror -o build/bench/ingest_parse_jansson \
  bench/jansson/ingest_parse_jansson.c build/libflowrw.a \
  -ljansson $(pkg-config --libs yaml-0.1 liburing libprotobuf-c) -lsnappy -lm
secs=${1:-1.5}
# Each run is bounded: 4 families x 3 runs x secs of CPU time, plus set-up.
timeout 300 build/bench/ingest_parse "$secs"
timeout 300 build/bench/ingest_parse_jansson "$secs"
