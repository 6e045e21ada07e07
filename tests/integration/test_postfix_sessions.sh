#!/usr/bin/env bash
# How tests are spread over sessions: error budgets, reconnect after a
# server drops us with 421, greylisting and --retry-deferred.
. "$(dirname "$0")/lib.sh"

# 1. A server that drops a client after 3 errors (421): every test is still
#    run, on new sessions, and the verdict is still right.
pf_start strict 127.0.0.1 auto 'smtpd_soft_error_limit = 2' 'smtpd_hard_error_limit = 3' \
  'smtpd_error_sleep_time = 0' || exit 1
rp_check strict --backoff 0.2 --source 127.0.0.2 "127.0.0.1:$(pf_port strict)"
rc_is 0
jq_is strict .verdict closed
jq_is strict '[.servers[0].transcript[] | select(.dir == "S" and (.line | startswith("421")))] | length >= 1' true
jq_is strict '[.servers[0].tests[] | select(.superseded | not) | .result] | unique | join(",")' 'rejected,skipped'
jq_is strict '[.servers[0].tests[] | select(.result == "error")] | length' 0

# 2. The same server with a budget under its limit: never dropped.
rp_check strict_budget --per-session 2 --source 127.0.0.2 "127.0.0.1:$(pf_port strict)"
jq_is strict_budget .verdict closed
jq_is strict_budget '[.servers[0].transcript[] | select(.dir == "S" and (.line | startswith("421")))] | length' 0
# Postfix offers PIPELINING: a session's tests go out as one group (RFC
# 2920), both MAIL commands before the first answer to either.
jq_is strict_budget '[.servers[0].transcript[] | select(.session == 1 and .dir != "*")]
  | (map(.line | startswith("MAIL FROM")) | index(true)) as $i | .[$i:]
  | (map(.dir == "S") | index(true)) as $j | .[:$j]
  | map(select(.line | startswith("MAIL FROM"))) | length' 2

# 3. Greylisting: deferred tests are reported as deferred, the verdict is
#    inconclusive (never "closed"), and --retry-deferred runs them again.
pf_start grey 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_recipient_access inline:{{gmail.com = 450 4.2.0 Greylisted, see http://postgrey.example/}}, reject_unauth_destination' || exit 1
rp_check grey --source 127.0.0.2 "127.0.0.1:$(pf_port grey)"
rc_is 1
jq_is grey .verdict inconclusive
jq_is grey '.servers[0].tests[] | select(.id == "T02") | [.result, .reason] | join(" ")' 'deferred greylisted'
jq_is grey '.servers[0].verdict_reason | test("deferred")' true
rp_check grey_retry --retry-deferred 1 --source 127.0.0.2 "127.0.0.1:$(pf_port grey)"
jq_is grey_retry '[.servers[0].tests[] | select(.id == "T02")] | length' 2
jq_is grey_retry '[.servers[0].tests[] | select(.id == "T02") | .superseded] | map(tostring) | join(",")' 'true,false'
jq_is grey_retry '[.servers[0].transcript[] | select(.line | test("retrying deferred"))] | length' 1

finish
