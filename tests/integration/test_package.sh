#!/usr/bin/env bash
# The Debian package: built with dpkg-buildpackage from a copy of the tree
# (the files git knows, tracked or not ignored) in a temporary directory,
# so nothing is written next to the source tree; checked with lintian (no
# errors); unpacked into an empty root with dpkg -x (the real system is
# never touched); the unpacked binary must run (--version) and find a
# closed Postfix closed, and the man page, the completions and the zones
# file must be in the package. Takes about a minute (the build is most of it).
. "$(dirname "$0")/lib.sh"

for tool in dpkg-buildpackage dpkg-parsechangelog dh dpkg-deb; do
  if ! command -v "$tool" >/dev/null; then
    _fail "$tool is installed" "run scripts/deps.sh (debhelper, dpkg-dev, lintian, fakeroot)"
    finish
  fi
done

t0=$SECONDS
version=$(dpkg-parsechangelog -l "$SRCDIR/debian/changelog" -S Version) || {
  _fail "debian/changelog parses"; finish; }
upstream=${version%-*}
arch=$(dpkg --print-architecture)
work=$RP_OUT/pkg
tree=$work/relayprobe-$upstream
mkdir -p "$tree"

# The tree: what git lists (tracked, and untracked but not ignored: new files
# not yet committed), minus files deleted in the working tree.
if git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      case $f in obj-*/*) continue ;; esac  # a dpkg-buildpackage run in place
      [ -f "$f" ] && printf '%s\0' "$f"
    done |
    tar --null -T - -cf -) | tar -xf - -C "$tree"
else
  tar -C "$SRCDIR" --exclude='./build*' --exclude='./obj-*' --exclude=./.git \
    --exclude=./debian/.debhelper --exclude=./debian/relayprobe -cf - . | tar -xf - -C "$tree"
fi
ok "tree copied to $tree (has debian/rules)" test -x "$tree/debian/rules"

# Build. dpkg-buildpackage writes the .deb, .buildinfo and .changes into the
# parent directory: $work.
b0=$SECONDS
(cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
  dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
rc=$?
echo "# dpkg-buildpackage -us -uc -b: exit $rc in $((SECONDS - b0)) s (log: $work/build.log)"
deb=$work/relayprobe_${version}_${arch}.deb
changes=$work/relayprobe_${version}_${arch}.changes
if [ "$rc" -ne 0 ] || [ ! -f "$deb" ]; then
  _fail "dpkg-buildpackage builds $(basename "$deb")" "$(tail -n 20 "$work/build.log")"
  finish
fi
_pass "dpkg-buildpackage builds $(basename "$deb")"

# Contents and metadata.
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
for f in ./usr/bin/relayprobe ./usr/share/man/man1/relayprobe.1.gz \
    ./usr/share/bash-completion/completions/relayprobe \
    ./usr/share/zsh/vendor-completions/_relayprobe \
    ./usr/share/relayprobe/zones.conf ./usr/share/doc/relayprobe/copyright \
    ./usr/share/doc/relayprobe/changelog.Debian.gz \
    ./lib/systemd/system/relayprobe-serve.service \
    ./lib/systemd/system/relayprobe-scan.service \
    ./lib/systemd/system/relayprobe-scan.timer ./etc/default/relayprobe; do
  ok "package contains $f" grep -qxF -- "$f" <<<"$contents"
done
depends=$(dpkg-deb -f "$deb" Depends)
ok "Depends comes from the shared libraries (libc6, libssl3, libevent): $depends" \
  bash -c '[[ $1 == *libc6* && $1 == *libssl* && $1 == *libevent* && $1 != *"\${"* ]]' _ "$depends"
ok "package version is $version" test "$(dpkg-deb -f "$deb" Version)" = "$version"
ok "/etc/default/relayprobe is a conffile" \
  bash -c 'dpkg-deb -e "$1" "$2/ctrl" && grep -qx /etc/default/relayprobe "$2/ctrl/conffiles"' _ "$deb" "$work"
ok "the units point at the packaged binary" \
  bash -c 'dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./lib/systemd/system/relayprobe-serve.service | grep -q "^ExecStart=/usr/bin/relayprobe serve "' _ "$deb"

if command -v lintian >/dev/null; then
  l0=$SECONDS
  lintian --tag-display-limit 0 "$changes" >"$work/lintian.txt" 2>&1
  echo "# lintian ($((SECONDS - l0)) s):"; sed 's/^/#   /' "$work/lintian.txt"
  errors=$(grep -E '^E: ' "$work/lintian.txt")
  [ -z "$errors" ] && _pass "lintian: no errors" || _fail "lintian: no errors" "$errors"
else
  _fail "lintian is installed" "run scripts/deps.sh"
fi

# Unpack into an empty root and run what was installed.
root=$work/root
mkdir -p "$root"
ok "dpkg -x unpacks the package into $root" dpkg -x "$deb" "$root"
rp=$root/usr/bin/relayprobe
ok "installed binary --version says relayprobe $upstream" \
  bash -c '[ "$("$1" --version)" = "relayprobe $2" ]' _ "$rp" "$upstream"

# The installed zones file parses and holds the zones of the source file: an
# address (IP lists) and a domain (domain lists) looked up with no DNS server
# answering (every zone reads unusable, but every zone is there).
dead=127.0.0.1:$(pf_free_port)
"$rp" blocklist --json --zones "$root/usr/share/relayprobe/zones.conf" \
  --resolver "$dead" 127.0.0.2 example.com >"$RP_OUT/zones.json" 2>"$RP_OUT/zones.err"
want=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$SRCDIR/data/zones.conf" | sort | tr '\n' ' ')
jq_is zones '[.subjects[].blocklists[].zone] | unique | join(" ") + " "' "$want"

# The man page renders, the completions load.
warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$root/usr/share/man/man1/relayprobe.1.gz" 2>&1 >/dev/null)
[ -z "$warn" ] && _pass "installed man page renders without warnings" \
  || _fail "installed man page renders without warnings" "$warn"
ok "installed man page documents check" \
  bash -c 'man -E UTF-8 -l "$1" 2>/dev/null | grep -q "relayprobe check"' _ "$root/usr/share/man/man1/relayprobe.1.gz"
ok "installed bash completion registers relayprobe" \
  bash -c '. "$1" && complete -p relayprobe | grep -q _relayprobe' _ "$root/usr/share/bash-completion/completions/relayprobe"
if command -v zsh >/dev/null; then
  ok "installed zsh completion parses" zsh -n "$root/usr/share/zsh/vendor-completions/_relayprobe"
fi

# A check with the installed binary against a closed Postfix.
pf_start pkg 127.0.0.1 auto || { _fail "Postfix starts"; finish; }
port=$(pf_port pkg)
"$rp" check --json --source 127.0.0.2 "127.0.0.1:$port" >"$RP_OUT/installed.json" 2>"$RP_OUT/installed.err"
RP_RC=$?
echo "# $rp check --json --source 127.0.0.2 127.0.0.1:$port -> exit $RP_RC"
rc_is 0
jq_is installed .verdict closed
jq_is installed .version "$upstream"

echo "# total $((SECONDS - t0)) s"
finish
