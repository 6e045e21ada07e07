#!/usr/bin/env bash
# Installs every build and test dependency of relayprobe from Debian 12
# packages. Idempotent: does nothing when all are present. Needs root.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config
  libevent-dev libc-ares-dev libssl-dev libsqlite3-dev libjansson-dev
  # tests
  libcmocka-dev postfix jq openssl python3 iproute2 procps
  nsd rbldnsd unbound dnsutils
  # peak memory in test_scan (/usr/bin/time) and the benchmarks' arithmetic
  time bc
  # SASL in the Postfix test instances: saslpasswd2, PLAIN/LOGIN/CRAM-MD5
  sasl2-bin libsasl2-modules
  # packaging (debian/, tests/integration/test_package.sh) and the man page
  # and completion checks (tests/integration/test_manpage.sh)
  debhelper dpkg-dev fakeroot lintian man-db groff-base bash-completion zsh
  # fuzzing (fuzz/run: clang with libFuzzer, ASan, UBSan) and scripts/valgrind.sh
  clang libclang-rt-14-dev valgrind
  # serve's tests: the sqlite3 CLI (integrity checks after kill -9), curl,
  # headless Chromium driven by playwright-core (tests/browser, from npm)
  sqlite3 curl chromium nodejs
  # systemd-analyze verify for the units (tests/integration/test_systemd.sh)
  systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm: Debian's package, unless a nodejs build that ships npm is installed.
command -v npm >/dev/null 2>&1 || missing+=(npm)
# playwright-core for the browser tests, pinned by tests/browser/package-lock.json.
browser_modules() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  if [ -f "$dir/package-lock.json" ] && [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    echo "deps: npm ci in tests/browser"
    (cd "$dir" && npm ci --no-audit --no-fund >/dev/null)
  fi
}
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  browser_modules
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
# Postfix must not ask questions nor configure the system's own instance:
# the tests run private instances on loopback ports.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
# The packages' own daemons (postfix, nsd, unbound, rbldnsd) are not
# wanted: tests run private instances. Debian's policy-rc.d hook (exit
# 101) keeps package scripts from starting services during the install.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
browser_modules
echo "deps: done"
