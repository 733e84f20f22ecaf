#!/usr/bin/env bash
# Weir local services: start Kafka 3.9 (single-node KRaft) and DynamoDB Local (in-memory),
# both bound to 127.0.0.1, without Docker. `npm run local:up`.
#
# - Idempotent: if both already answer, says so and exits 0; a service that already
#   answers (or is still starting from an earlier run) is not started twice.
# - First start resolves the jars from Maven Central into ~/.cache/weir-local/ (minutes);
#   later starts reuse that cache.
# - Kafka gets fresh storage (new temp dir under .local/kafka/, new cluster id) each time
#   it is started by this script; scripts/local/restart-one.sh keeps the data.
# - pid files: .local/run/*.pid   logs: .local/logs/*.log
# See lib.sh for the environment knobs (WEIR_KAFKA_PORT, WEIR_DYNAMODB_PORT, ...).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0="$(now_ms)"
require_node_modules
ensure_dirs

KAFKA_WANT="$BIND_HOST:$KAFKA_PORT"
DYNAMODB_WANT="http://$BIND_HOST:$DYNAMODB_PORT"

# --- 1. what is already there?
probe="$(wait_ready --probe --kafka "$KAFKA_WANT" --dynamodb "$DYNAMODB_WANT" || true)"
kafka_up=no
dynamodb_up=no
grep -qx 'kafka=up' <<<"$probe" && kafka_up=yes
grep -qx 'dynamodb=up' <<<"$probe" && dynamodb_up=yes

print_summary() {
  local kep dep
  kep="$1"
  dep="$2"
  cat <<EOF
[weir-local]   Kafka $KAFKA_VERSION (KRaft)   bootstrap servers: $kep
[weir-local]   DynamoDB Local $DYNAMODB_LOCAL_VERSION  endpoint: $dep  (region us-east-1, any credentials)
[weir-local]   logs: ${KAFKA_LOG#"$REPO_ROOT"/}, ${DYNAMODB_LOG#"$REPO_ROOT"/}   pids: ${RUN_DIR#"$REPO_ROOT"/}/
[weir-local]   stop: npm run local:down   restart one: bash scripts/local/restart-one.sh kafka|dynamodb
EOF
}

if [[ "$kafka_up" == yes && "$dynamodb_up" == yes ]]; then
  say "already running: Kafka answers on $KAFKA_WANT and DynamoDB Local on $DYNAMODB_WANT - nothing to do."
  print_summary "$KAFKA_WANT" "$DYNAMODB_WANT"
  exit 0
fi

require_java

wait_args=()
kafka_ep="$KAFKA_WANT"
dynamodb_ep="$DYNAMODB_WANT"
start_kafka=no
start_dynamodb=no

if [[ "$kafka_up" == yes ]]; then
  say "Kafka already answers on $KAFKA_WANT (leaving it alone)"
elif pid="$(our_pid kafka)"; then
  kafka_ep="$(kafka_endpoint)"
  say "Kafka (pid $pid) is already running from an earlier start but not answering on $kafka_ep yet; waiting for it"
  wait_args+=(--kafka "$kafka_ep" --kafka-pid "$pid" --kafka-log "$KAFKA_LOG")
else
  start_kafka=yes
fi

if [[ "$dynamodb_up" == yes ]]; then
  say "DynamoDB Local already answers on $DYNAMODB_WANT (leaving it alone)"
elif pid="$(our_pid dynamodb)"; then
  dynamodb_ep="$(dynamodb_endpoint)"
  say "DynamoDB Local (pid $pid) is already running from an earlier start but not answering on $dynamodb_ep yet; waiting for it"
  wait_args+=(--dynamodb "$dynamodb_ep" --dynamodb-pid "$pid" --dynamodb-log "$DYNAMODB_LOG")
else
  start_dynamodb=yes
fi

# --- 2. ports must be free before anything is started (a foreign listener that does not
#        answer as Kafka / DynamoDB would otherwise only show up as a readiness time-out)
if [[ "$start_kafka" == yes ]]; then
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_in_use "$p" && die "port $p on $BIND_HOST is in use by a process that is not a Kafka broker started by these scripts (choose others with WEIR_KAFKA_PORT / WEIR_KAFKA_CONTROLLER_PORT)"
  done
fi
if [[ "$start_dynamodb" == yes ]]; then
  port_in_use "$DYNAMODB_PORT" && die "port $DYNAMODB_PORT on $BIND_HOST is in use by something that does not answer as DynamoDB (choose another with WEIR_DYNAMODB_PORT)"
fi

# --- 3. jars (Maven Central -> ~/.cache/weir-local, first start only)
[[ "$start_kafka" == yes ]] && ensure_kafka_jars
[[ "$start_dynamodb" == yes ]] && ensure_dynamodb_jars

# --- 4. start (DynamoDB first: it boots while Kafka storage is being formatted)
if [[ "$start_dynamodb" == yes ]]; then
  rm -f "$(pid_file dynamodb)"
  rotate_log "$DYNAMODB_LOG"
  start_dynamodb_process "$DYNAMODB_PORT" "${WEIR_DYNAMODB_DB_PATH:-}"
  wait_args+=(--dynamodb "$DYNAMODB_WANT" --dynamodb-pid "$(cat "$(pid_file dynamodb)")" --dynamodb-log "$DYNAMODB_LOG")
fi
if [[ "$start_kafka" == yes ]]; then
  rm -f "$(pid_file kafka)"
  rotate_log "$KAFKA_LOG"
  prepare_fresh_kafka
  start_kafka_process
  wait_args+=(--kafka "$KAFKA_WANT" --kafka-pid "$(cat "$(pid_file kafka)")" --kafka-log "$KAFKA_LOG")
fi

# --- 5. readiness (bounded)
say "waiting up to ${READY_TIMEOUT}s for readiness..."
if ! wait_ready --timeout "$READY_TIMEOUT" "${wait_args[@]}"; then
  die "local services did not become ready (logs: $LOG_DIR). Clean up with: npm run local:down"
fi

say "ready in $(elapsed_since "$T0")"
print_summary "$kafka_ep" "$dynamodb_ep"
