#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# long_outage.sh (make test-long): outage.sh with the endpoint away for 30 s.
export FAULT_OUTAGE_SECONDS=${FAULT_OUTAGE_SECONDS:-30}
exec bash "$(dirname "$0")/outage.sh" long_outage
