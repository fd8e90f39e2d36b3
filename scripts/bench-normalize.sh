#!/usr/bin/env bash
# Measures normalization speed: the Go benchmarks (decode + route + map, and with JSON encoding,
# over the golden fixtures and over oktasim's scenario mix), then `idwatch normalize` and a
# comparable jq reshaping over the same JSON-lines input (the scenario mix: a working day of a
# 25-person org plus every attack storyline), and prints the ratio.
# Usage: scripts/bench-normalize.sh [REPEAT]   (REPEAT × the scenario mix, default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-20}"

if ! command -v jq >/dev/null 2>&1; then
	echo "installing jq" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq jq >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Input: the scenario mix, written by the test that validates its records, repeated.
go test ./internal/normalize -count=1 -run '^TestScenarioRecordsValid$' -args -bench-mix-out="$work/mix.jsonl" >/dev/null
for _ in $(seq "$repeat"); do cat "$work/mix.jsonl"; done >"$work/input.jsonl"
events=$(wc -l <"$work/input.jsonl")
echo "input: $events events, $(du -h "$work/input.jsonl" | cut -f1)"

echo
echo "== Go benchmarks (one core) =="
go test -run '^$' -bench 'DecodeRouteMap' -benchtime 2s -cpu 1 ./internal/normalize/ | grep -E '^Benchmark'

go build -o "$work/idwatch" ./cmd/idwatch

# A jq program doing a comparable reshaping: route by eventType, build the OCSF core (class,
# activity, time, status, actor, user, src_endpoint, http_request, metadata with labels) and keep
# the rest as unmapped, one record per event.
cat >"$work/ocsf.jq" <<'JQ'
def class: if (.eventType | test("^user\\.(session|authentication)\\.|^policy\\.evaluate_sign_on$")) then 3002
  elif (.eventType | test("^user\\.(lifecycle|account|mfa)\\.")) then 3001
  elif (.eventType | test("^group\\.")) then 3006
  elif (.eventType | test("^policy\\.")) then 3004
  else 6003 end;
def status: {"SUCCESS":1,"ALLOW":1,"FAILURE":2,"DENY":2}[.outcome.result // ""] // 99;
. as $e | class as $c |
{
  activity_id: 1, class_uid: $c, category_uid: ($c / 1000 | floor), type_uid: ($c * 100 + 1),
  severity_id: ({"INFO":1,"WARN":3,"ERROR":4}[.severity] // 1),
  time: (.published | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601 * 1000),
  message: .displayMessage,
  status_id: status, status_code: .outcome.result, status_detail: .outcome.reason,
  metadata: {uid: .uuid, event_code: .eventType, version: "1.8.0",
             product: {name: "Okta System Log", vendor_name: "Okta"},
             labels: ["schema:auth", "routing:listed"]},
  actor: {user: {uid: .actor.id, name: .actor.alternateId, full_name: .actor.displayName},
          session: {uid: .authenticationContext.externalSessionId}},
  user: ((.target // []) | map(select(.type == "User")) | first | if . then {uid: .id, name: .alternateId} else null end),
  src_endpoint: {ip: .client.ipAddress,
                 location: {city: .client.geographicalContext.city, country: .client.geographicalContext.country},
                 autonomous_system: {number: .securityContext.asNumber, name: .securityContext.asOrg}},
  http_request: {user_agent: .client.userAgent.rawUserAgent, uid: .debugContext.debugData.requestId},
  unmapped: {debugContext: .debugContext, target: .target, transaction: .transaction, request: .request},
  raw_data: ($e | tojson)
}
JQ

echo
echo "== end to end over the same input (wall seconds, CPU seconds) =="
TIMEFORMAT='%R %U %S'
t_idw=$( { time "$work/idwatch" normalize --tenant bench <"$work/input.jsonl" >"$work/idwatch.out"; } 2>&1 )
t_jq=$( { time jq -c -f "$work/ocsf.jq" "$work/input.jsonl" >"$work/jq.out"; } 2>&1 )
read -r idw_wall idw_user idw_sys <<<"$t_idw"
read -r jq_wall jq_user jq_sys <<<"$t_jq"
awk -v n="$events" -v iw="$idw_wall" -v iu="$idw_user" -v is="$idw_sys" -v jw="$jq_wall" -v ju="$jq_user" -v js="$jq_sys" \
    -v ir="$(wc -l <"$work/idwatch.out")" -v jr="$(wc -l <"$work/jq.out")" 'BEGIN {
	ic = iu + is; jc = ju + js
	printf "idwatch normalize: %6.2fs wall %6.2fs cpu  %8.0f events/s (wall) %8.0f events/cpu-s  (%d records)\n", iw, ic, n/iw, n/ic, ir
	printf "jq reshaping:      %6.2fs wall %6.2fs cpu  %8.0f events/s (wall) %8.0f events/cpu-s  (%d records)\n", jw, jc, n/jw, n/jc, jr
	printf "ratio (jq / idwatch): %.1fx wall, %.1fx cpu\n", jw/iw, jc/ic
}'
