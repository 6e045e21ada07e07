# bash completion for relayprobe(1)                        -*- shell-script -*-
# Installed as share/bash-completion/completions/relayprobe (loaded on demand
# by bash-completion). Keep the option lists in step with `relayprobe --help`:
# tests/integration/test_manpage.sh checks that every option is here.

_relayprobe_techniques()
{
    # Technique ids from the binary itself (T01,T02,...), so new ones appear.
    "$1" tests 2>/dev/null | awk '/^T[0-9]/ { print $1 }'
}

_relayprobe()
{
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -s -n : || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        if [[ $cur == --*=* ]]; then
            prev=${cur%%=*}
            cur=${cur#*=}
            split=true
        fi
    fi

    # The command word: the first word after the program name.
    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            check | mx | blocklist | receive | tests | config-check | scan | \
                serve | history)
                cmd=${words[i]}
                break
                ;;
        esac
    done

    # Values of options that take one.
    case $prev in
        --zones | --ca-file | --prometheus-textfile | --postfix | --exim | \
            --output | -o | --exclude | --resume | --db | --token-file)
            if declare -F _filedir >/dev/null 2>&1; then
                _filedir
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return
            ;;
        --color)
            COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W 'text json nagios' -- "$cur"))
            return
            ;;
        --checks)
            # A comma-separated list: complete the last element.
            local pre="" c list=()
            [[ $cur == *,* ]] && pre=${cur%,*},
            for c in relay audit blocklist; do
                [[ ",$pre" == *",$c,"* ]] || list+=("$pre$c")
            done
            COMPREPLY=($(compgen -W '${list[*]}' -- "$cur"))
            [[ ${#COMPREPLY[@]} -eq 1 ]] && compopt -o nospace 2>/dev/null
            return
            ;;
        --port | -p)
            COMPREPLY=($(compgen -W '25 465 587 2525' -- "$cur"))
            return
            ;;
        --source | -s)
            if declare -F _ip_addresses >/dev/null 2>&1; then
                _ip_addresses
            fi
            return
            ;;
        --only)
            # A comma-separated list: complete the last element.
            local done_ids="" last=$cur
            if [[ $cur == *,* ]]; then
                done_ids=${cur%,*},
                last=${cur##*,}
            fi
            local id ids=()
            for id in $(_relayprobe_techniques "${words[0]}"); do
                [[ ",$done_ids" == *",$id,"* ]] || ids+=("$done_ids$id")
            done
            COMPREPLY=($(compgen -W '${ids[*]}' -- "$cur"))
            [[ ${#COMPREPLY[@]} -eq 1 ]] && compopt -o nospace 2>/dev/null
            return
            ;;
        --resolver | --connect-timeout | --greeting-timeout | \
            --command-timeout | --tls-timeout | --helo | --domain | -d | \
            --from | --to | --mailbox | --sessions | --per-session | \
            --retry-deferred | --backoff | --confirm-domain | --receiver | \
            --confirm-wait | --send-to | --duration | --client | \
            --concurrency | -c | --rate | --per-address | --max-cidr | --shard | \
            --listen | --ports | --max-checks | --queue | --allowed-host | \
            --trusted-proxy | --public-url | --min-interval | --limit)
            # Free text: nothing to offer.
            return
            ;;
    esac
    $split && return

    local opts
    case $cmd in
        check)
            opts='--port --tls --starttls --no-tls --source --resolver
                --no-mx --connect-timeout --greeting-timeout
                --command-timeout --tls-timeout --no-audit --ca-file --helo
                --domain --from --to --mailbox --only --sessions
                --per-session --retry-deferred --backoff --confirm
                --confirm-domain --receiver --confirm-wait --send-to --zones
                --no-blocklists --no-dns-checks --dns-private --verbose
                --json --format --prometheus-textfile --color --help
                -p -s -d -v -h'
            ;;
        scan)
            opts='--output --checks --concurrency --rate --per-address
                --exclude --include-special --max-cidr --resume --shard
                --progress --no-progress --port --tls --starttls --no-tls
                --source --resolver --no-mx --connect-timeout
                --greeting-timeout --command-timeout --tls-timeout
                --no-audit --ca-file --helo --domain --from --to --mailbox
                --only --sessions --per-session --retry-deferred --backoff
                --zones --no-blocklists --no-dns-checks --dns-private
                --verbose --help -o -c -p -s -d -v -h'
            ;;
        mx)
            opts='--resolver --json --help -h'
            ;;
        blocklist)
            opts='--zones --resolver --json --help -h'
            ;;
        receive)
            opts='--receiver --confirm-domain --duration --helo --json
                --help -h'
            ;;
        tests)
            opts='--json --help -h'
            ;;
        config-check)
            opts='--postfix --exim --client --json --format --color --help -h'
            ;;
        serve)
            opts='--listen --db --token-file --allow-private --ports
                --max-checks --queue --rate --allowed-host --trusted-proxy
                --public-url --min-interval --tls --starttls --no-tls
                --source --resolver --no-mx --connect-timeout
                --greeting-timeout --command-timeout --tls-timeout
                --no-audit --ca-file --helo --from --to --only --sessions
                --per-session --backoff --zones --no-blocklists
                --no-dns-checks --dns-private --help -s -h'
            ;;
        history)
            opts='--db --limit --json --help -h'
            ;;
        *)
            opts='--help --version -h -V'
            ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    case $cmd in
        "")
            COMPREPLY=($(compgen -W 'check mx blocklist receive tests config-check scan serve history' -- "$cur"))
            ;;
        scan)
            # The target list: a file (or - for stdin).
            if declare -F _filedir >/dev/null 2>&1; then
                _filedir
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            ;;
        check | mx | blocklist | history)
            # Targets: host names (and addresses) the system knows.
            if declare -F _known_hosts_real >/dev/null 2>&1; then
                _known_hosts_real -- "$cur"
            fi
            ;;
    esac
} &&
    complete -F _relayprobe relayprobe

# ex: filetype=sh
