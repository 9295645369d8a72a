#!/usr/bin/env bash
# make bench-probe: see hack/bench_probe.py. Needs root (Postfix, a network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench-probe: needs root (Postfix, network namespace)" >&2; exit 1; }
exec python3 hack/bench_probe.py "$@"
