#!/usr/bin/env bash
# Quick start, command 2: installs dependencies, builds relayprobe twice
# (plain, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# every test in both builds: cmocka unit tests and the integration tests,
# which start real Postfix instances on loopback. Needs root (apt, Postfix).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

# Banned unbounded string functions (curl's BANNEDFUNC rule).
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncat|gets|atoi|strtok)\(' \
     $(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 2>/dev/null || find src tests -name '*.[ch]'); then
  echo "test: banned function used (see above); use snprintf/strtol/..." >&2
  exit 1
fi

status=0
run() {
  local dir=$1; shift
  echo "== build $dir"
  scripts/build.sh "$dir" "$@"
  echo "== test $dir"
  # Two tests at a time (RP_TEST_JOBS): the integration tests mostly wait
  # on servers, and each picks its own ports and loopback addresses.
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j "${RP_TEST_JOBS:-2}") || status=1
}
run build
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run build-asan -DRELAYPROBE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
if [ $status -eq 0 ]; then echo "test: all passed (plain and ASan+UBSan)"; else echo "test: FAILURES" >&2; fi
exit $status
