#!/usr/bin/env bash
# The man page (doc/relayprobe.1) and the shell completions
# (completions/relayprobe.bash, completions/_relayprobe) stay in step with
# `relayprobe --help`: every long option and subcommand --help names is
# documented and completed, and nothing is documented that --help does not
# know. The lists are read from --help and the files each run, never
# written down here. Also: the man page renders without warnings, its
# version is the binary's, and every JSON field the binary prints is in it.
. "$(dirname "$0")/lib.sh"

MAN=$SRCDIR/doc/relayprobe.1
BASHC=$SRCDIR/completions/relayprobe.bash
ZSHC=$SRCDIR/completions/_relayprobe
for f in "$MAN" "$BASHC" "$ZSHC"; do
  [ -f "$f" ] || { _fail "$f exists"; finish; }
done

help=$("$RELAYPROBE" --help) || { _fail "relayprobe --help exits 0"; finish; }

# --- what --help says -------------------------------------------------------
# Long options: every --name anywhere in the text (option list and usage).
mapfile -t help_opts < <(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)
# "-x, --long" pairs of the option list.
mapfile -t help_pairs < <(grep -oE -- '(^|[[:space:]])-[a-zA-Z], --[a-z][a-z0-9-]*' <<<"$help" |
  sed -E 's/^[[:space:]]*//' | sort -u)
# Subcommands: "relayprobe WORD" at the start of the usage lines.
mapfile -t help_cmds < <(sed -nE 's/^(Usage:)?[[:space:]]+relayprobe ([a-z][a-z-]*).*/\2/p' <<<"$help" | sort -u)

if [ "${#help_opts[@]}" -ge 10 ] && [ "${#help_cmds[@]}" -ge 3 ]; then
  _pass "--help names ${#help_opts[@]} long options, ${#help_pairs[@]} short forms, ${#help_cmds[@]} subcommands"
else
  _fail "--help parsed" "options: ${help_opts[*]}; subcommands: ${help_cmds[*]}"
  finish
fi

in_list() { # WORD LIST...
  local w=$1 x; shift
  for x in "$@"; do [ "$x" = "$w" ] && return 0; done
  return 1
}

# --- the man page -----------------------------------------------------------
# roff without comments, with "\-" turned into "-".
man_text=$(grep -v '^\.\\"' "$MAN" | sed 's/\\-/-/g')
section() { # NAME: the lines of one .SH section (headings excluded)
  awk -v want="$1" '
    /^\.SH / { name = substr($0, 5); gsub(/"/, "", name); insec = (name == want); next }
    insec' <<<"$man_text"
}
tags() { # the tag lines of the .TP paragraphs on stdin
  awk 'tp { print; tp = 0; next } /^\.TP/ { tp = 1 }'
}
opts_in() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

options_sec=$(section OPTIONS)
[ -n "$options_sec" ] && _pass "man page has an OPTIONS section" || _fail "man page has an OPTIONS section"
mapfile -t man_tag_opts < <(tags <<<"$options_sec" | opts_in)
mapfile -t man_sec_opts < <(opts_in <<<"$options_sec")
mapfile -t man_all_opts < <(opts_in <<<"$man_text")

missing=()
for o in "${help_opts[@]}"; do in_list "$o" "${man_tag_opts[@]}" || missing+=("$o"); done
[ ${#missing[@]} -eq 0 ] && _pass "every --help option has an entry in the man page's OPTIONS" \
  || _fail "every --help option has an entry in the man page's OPTIONS" "missing: ${missing[*]}"

extra=()
for o in "${man_sec_opts[@]}"; do in_list "$o" "${help_opts[@]}" || extra+=("$o"); done
[ ${#extra[@]} -eq 0 ] && _pass "every option in the man page's OPTIONS is in --help" \
  || _fail "every option in the man page's OPTIONS is in --help" "not in --help: ${extra[*]}"

extra=()
for o in "${man_all_opts[@]}"; do in_list "$o" "${help_opts[@]}" || extra+=("$o"); done
[ ${#extra[@]} -eq 0 ] && _pass "every option the man page mentions anywhere is in --help" \
  || _fail "every option the man page mentions anywhere is in --help" "not in --help: ${extra[*]}"

# Short forms: the entry of --long names -x too.
bad=()
for p in "${help_pairs[@]}"; do
  short=${p%%,*} long=${p#*, }
  tags <<<"$options_sec" | grep -E -- "(^|[^a-z0-9-])$long([^a-z0-9-]|\$)" |
    grep -qE -- "(^|[^a-z0-9-])$short([^a-z0-9-]|\$)" || bad+=("$p")
done
[ ${#bad[@]} -eq 0 ] && _pass "the man page gives every short form --help gives" \
  || _fail "the man page gives every short form --help gives" "missing: ${bad[*]}"

# Subcommands: in the SYNOPSIS and with an entry in COMMANDS, both ways.
mapfile -t man_syn_cmds < <(section SYNOPSIS | sed 's/\\f[BIRP]//g' |
  grep -oE '^relayprobe [a-z][a-z-]*' | awk '{ print $2 }' | sort -u)
mapfile -t man_cmd_tags < <(section COMMANDS | tags | awk '{ print $2 }' | sort -u)
missing=()
for c in "${help_cmds[@]}"; do
  in_list "$c" "${man_syn_cmds[@]}" && in_list "$c" "${man_cmd_tags[@]}" || missing+=("$c")
done
[ ${#missing[@]} -eq 0 ] && _pass "every subcommand is in the man page's SYNOPSIS and COMMANDS (${help_cmds[*]})" \
  || _fail "every subcommand is in the man page's SYNOPSIS and COMMANDS" "missing: ${missing[*]}"
extra=()
for c in "${man_syn_cmds[@]}" "${man_cmd_tags[@]}"; do in_list "$c" "${help_cmds[@]}" || extra+=("$c"); done
[ ${#extra[@]} -eq 0 ] && _pass "every subcommand in the man page is in --help" \
  || _fail "every subcommand in the man page is in --help" "not in --help: ${extra[*]}"

# Renders cleanly, and documents this version.
warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$MAN" 2>&1 >/dev/null)
[ -z "$warn" ] && _pass "man --warnings: no warnings" || _fail "man --warnings: no warnings" "$warn"
if command -v groff >/dev/null; then
  warn=$(groff -man -ww -z "$MAN" 2>&1)
  [ -z "$warn" ] && _pass "groff -man -ww -z: no warnings" || _fail "groff -man -ww -z: no warnings" "$warn"
fi
version=$("$RELAYPROBE" --version | awk '{ print $2 }')
th_version=$(grep -m1 '^\.TH ' "$MAN" | grep -oE '"relayprobe [^"]*"' | tr -d '"' | awk '{ print $2 }')
[ -n "$version" ] && [ "$th_version" = "$version" ] && _pass "man page .TH version is $version" \
  || _fail "man page .TH version is the binary's" "binary $version, man page $th_version"

# Every JSON field the binary prints (check of two unreachable targets,
# tests, mx and blocklist without a DNS server, receive for a second: all
# offline) is named in JSON OUTPUT.
json_sec=$(section "JSON OUTPUT" | sed 's/\\f[BIRP]//g')
p1=$(pf_free_port) p2=$(pf_free_port)
dead=127.0.0.1:$(pf_free_port)
{
  "$RELAYPROBE" check --json --source 127.0.0.2 "127.0.0.1:$p1" "127.0.0.1:$p2"
  "$RELAYPROBE" check --json --source 127.0.0.2 "127.0.0.1:$p1"
  "$RELAYPROBE" tests --json
  "$RELAYPROBE" mx --json --resolver "$dead" example.com
  "$RELAYPROBE" blocklist --json --resolver "$dead" 127.0.0.2 example.com
  "$RELAYPROBE" receive --json --receiver "127.0.0.1:$(pf_free_port)" \
    --confirm-domain probe.invalid --duration 1
  printf 'mynetworks = 0.0.0.0/0\n' >"$RP_OUT/docs-main.cf"
  "$RELAYPROBE" config-check --json --postfix "$RP_OUT/docs-main.cf"
} >"$RP_OUT/docs.json" 2>"$RP_OUT/docs.err"
mapfile -t keys < <(jq -r '[paths | .[] | strings] | .[]' "$RP_OUT/docs.json" | sort -u)
missing=()
for k in "${keys[@]}"; do grep -qw -- "$k" <<<"$json_sec" || missing+=("$k"); done
if [ "${#keys[@]}" -ge 40 ] && [ ${#missing[@]} -eq 0 ]; then
  _pass "all ${#keys[@]} JSON field names printed are in the man page's JSON OUTPUT"
else
  _fail "every JSON field name printed is in the man page's JSON OUTPUT" \
    "${#keys[@]} keys; missing: ${missing[*]}"
fi

# --- the completions --------------------------------------------------------
for f in "$BASHC" "$ZSHC"; do
  name=${f#"$SRCDIR"/}
  mapfile -t comp_opts < <(opts_in <"$f")
  missing=()
  for o in "${help_opts[@]}"; do in_list "$o" "${comp_opts[@]}" || missing+=("$o"); done
  [ ${#missing[@]} -eq 0 ] && _pass "$name completes every --help option" \
    || _fail "$name completes every --help option" "missing: ${missing[*]}"
  extra=()
  for o in "${comp_opts[@]}"; do in_list "$o" "${help_opts[@]}" || extra+=("$o"); done
  [ ${#extra[@]} -eq 0 ] && _pass "$name offers no option --help does not know" \
    || _fail "$name offers no option --help does not know" "not in --help: ${extra[*]}"
  missing=()
  for c in "${help_cmds[@]}"; do grep -qw -- "$c" "$f" || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && _pass "$name names every subcommand" \
    || _fail "$name names every subcommand" "missing: ${missing[*]}"
done

ok "bash -n completions/relayprobe.bash" bash -n "$BASHC"
if command -v zsh >/dev/null; then
  ok "zsh -n completions/_relayprobe" zsh -n "$ZSHC"
else
  echo "# zsh not installed: syntax check of _relayprobe skipped"
fi

# The bash completion at work (needs the bash-completion package).
bc=/usr/share/bash-completion/bash_completion
if [ -r "$bc" ]; then
  complete_line() { # WORDS...: the candidates bash would offer for the last word
    # shellcheck disable=SC1090
    bash -c '
      . "$1"; . "$2"; shift 2
      COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
      _relayprobe relayprobe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
      printf "%s\n" "${COMPREPLY[@]}"' _ "$bc" "$BASHC" "$@" 2>/dev/null | sort -u
  }
  got=$(complete_line "$RELAYPROBE" "" | tr '\n' ' ')
  want=$(printf '%s\n' "${help_cmds[@]}" | tr '\n' ' ')
  [ "$got" = "$want" ] && _pass "bash: relayprobe <TAB> offers the subcommands ($got)" \
    || _fail "bash: relayprobe <TAB> offers the subcommands" "got '$got', want '$want'"
  # Every option is offered after some subcommand (or before any).
  offered=$( { complete_line "$RELAYPROBE" --
    for c in "${help_cmds[@]}"; do complete_line "$RELAYPROBE" "$c" --; done; } | sort -u)
  missing=()
  for o in "${help_opts[@]}"; do grep -qxF -- "$o" <<<"$offered" || missing+=("$o"); done
  [ ${#missing[@]} -eq 0 ] && _pass "bash: every --help option is offered after -- by some subcommand" \
    || _fail "bash: every --help option is offered after -- by some subcommand" "missing: ${missing[*]}"
  got=$(complete_line "$RELAYPROBE" check --color "" | tr '\n' ' ')
  [ "$got" = "always auto never " ] && _pass "bash: --color offers auto, always, never" \
    || _fail "bash: --color offers auto, always, never" "got '$got'"
  got=$(complete_line "$RELAYPROBE" check --zones "$SRCDIR/data/zon")
  [ "$got" = "$SRCDIR/data/zones.conf" ] && _pass "bash: --zones completes file names" \
    || _fail "bash: --zones completes file names" "got '$got'"
  got=$(complete_line "$RELAYPROBE" check --ca-file "$SRCDIR/data/zon")
  [ "$got" = "$SRCDIR/data/zones.conf" ] && _pass "bash: --ca-file completes file names" \
    || _fail "bash: --ca-file completes file names" "got '$got'"
  ids=$("$RELAYPROBE" tests --json | jq -r '.techniques[].id' | sort | tr '\n' ' ')
  got=$(complete_line "$RELAYPROBE" check --only "" | tr '\n' ' ')
  [ -n "$ids" ] && [ "$got" = "$ids" ] && _pass "bash: --only offers the technique ids of 'relayprobe tests'" \
    || _fail "bash: --only offers the technique ids" "got '$got', want '$ids'"
else
  echo "# bash-completion not installed: completion behaviour not exercised"
fi

finish
