#!/usr/bin/env bash
# Runs the integration suite (and the fuzz corpus replays) with every
# relayprobe process under valgrind memcheck, and says clean or dirty.
#
#   scripts/valgrind.sh              every tests/integration/test_*.sh but
#                                    test_package.sh (it runs the packaged binary)
#   scripts/valgrind.sh cli hostile  only test_cli.sh and test_hostile.sh
#   VG_NO_FUZZ=1 scripts/valgrind.sh ...   skip the fuzz corpus replays
#
# Builds a plain Debug build (no sanitizers: valgrind and ASan do not mix)
# in build-valgrind/, points RELAYPROBE at a wrapper that execs
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
#            --error-exitcode=97 --log-file=build-valgrind/vg-logs/%p.log
# and runs each test script directly (CTest would set RELAYPROBE itself).
# Timeouts and delays of test_hostile.sh are scaled (HOSTILE_SCALE=4) and
# its RSS bound raised to what valgrind itself needs; every other test runs
# as it is. Exit status 0 only when every test passed and every valgrind
# log is clean (no error, no definite/indirect/possible leak); the logs
# of dirty runs are listed. Needs root like the suite (Postfix).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/deps.sh)" >&2; exit 1; }
dir=build-valgrind
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DRELAYPROBE_SANITIZE=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
logs=$root/$dir/vg-logs
rm -rf "$logs"
mkdir -p "$logs"

wrapper=$root/$dir/relayprobe-valgrind
cat >"$wrapper" <<EOF
#!/bin/sh
exec valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \\
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=97 \\
  --track-origins=yes --log-file="$logs/%p.log" "$root/$dir/relayprobe" "\$@"
EOF
chmod +x "$wrapper"

if [ $# -gt 0 ]; then
  scripts=()
  for t in "$@"; do scripts+=("tests/integration/test_${t#test_}.sh"); done
else
  # test_package.sh builds and unpacks the Debian package and runs the
  # binary from it, not $RELAYPROBE: nothing for valgrind there.
  scripts=()
  for s in tests/integration/test_*.sh; do
    [ "$s" = tests/integration/test_package.sh ] || scripts+=("$s")
  done
fi

status=0
for s in "${scripts[@]}"; do
  [ -f "$s" ] || { echo "valgrind: no such test: $s" >&2; status=1; continue; }
  echo "== $s (relayprobe under valgrind)"
  start=$SECONDS
  if RELAYPROBE=$wrapper SRCDIR=$root HOSTILE_SCALE=${HOSTILE_SCALE:-4} \
     HOSTILE_MAX_RSS_KB=${HOSTILE_MAX_RSS_KB:-524288} HOSTILE_JOBS=${HOSTILE_JOBS:-4} \
     bash "$s" >"$logs/$(basename "$s" .sh).out" 2>&1; then
    echo "   passed ($((SECONDS - start)) s): $(tail -n 1 "$logs/$(basename "$s" .sh).out")"
  else
    status=1
    out=$logs/$(basename "$s" .sh).out
    echo "   FAILED ($((SECONDS - start)) s): $(grep -E 'passed, .* failed' "$out" | tail -n 1 || true)"
    { grep -E '^not ok' -A1 "$out" || tail -n 5 "$out"; } | head -n 20 | sed 's/^/     /' || true
  fi
done

# The fuzz corpora through the replay mains, each under valgrind: exact-
# size buffers make overreads visible here too.
if [ "${VG_NO_FUZZ:-0}" != 1 ] && [ -d "$dir/fuzz" ]; then
  echo "== fuzz corpus replays (under valgrind)"
  for exe in "$dir"/fuzz/fuzz_*; do
    [ -x "$exe" ] || continue
    name=${exe##*/fuzz_}
    if valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
         --error-exitcode=97 --log-file="$logs/fuzz_$name.%p.log" \
         "$exe" "fuzz/corpus/$name" >"$logs/fuzz_$name.out" 2>&1; then
      echo "   fuzz.$name: $(cat "$logs/fuzz_$name.out")"
    else
      status=1
      echo "   fuzz.$name: FAILED (see $logs/fuzz_$name.*)"
    fi
  done
fi

# A log is dirty when memcheck reported anything: --quiet leaves clean
# logs empty.
nlogs=$(find "$logs" -name '*.log' | wc -l)
dirty=()
while IFS= read -r -d '' l; do
  [ -s "$l" ] && dirty+=("$l")
done < <(find "$logs" -name '*.log' -print0)
if [ ${#dirty[@]} -eq 0 ]; then
  echo "valgrind: clean ($nlogs processes checked, logs in $logs)"
else
  status=1
  echo "valgrind: DIRTY: ${#dirty[@]} of $nlogs processes reported errors or leaks:"
  for l in "${dirty[@]}"; do
    echo "  $l: $(grep -m1 -E 'Invalid|uninitialised|definitely lost|indirectly lost|possibly lost|ERROR SUMMARY' "$l")"
  done
fi
[ $status -eq 0 ] && echo "valgrind: all passed" || echo "valgrind: FAILURES" >&2
exit $status
