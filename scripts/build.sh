#!/usr/bin/env bash
# Configures and builds relayprobe. Usage: scripts/build.sh [DIR [cmake args]]
# DIR defaults to build/. Re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
