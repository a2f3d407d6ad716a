#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# long_crash.sh (make test-long): crash.sh at full size: 5 million samples from a file
# source while the ingest, each encoder and the sender are SIGKILLed 10 times each.
export FAULT_CRASH_SAMPLES=${FAULT_CRASH_SAMPLES:-5000000}
export FAULT_CRASH_KILLS=${FAULT_CRASH_KILLS:-10}
export FAULT_CRASH_SECONDS=${FAULT_CRASH_SECONDS:-420}
exec bash "$(dirname "$0")/crash.sh" long_crash
