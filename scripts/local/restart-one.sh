#!/usr/bin/env bash
# Weir local services: restart only one service, for fault tests.
#
#   bash scripts/local/restart-one.sh kafka|dynamodb [--hard] [--pause SECONDS] [--no-wait]
#
#   kafka     stop the broker and start it again on the SAME data dir, config and cluster id
#             (topics, committed offsets and transactions survive, like a real broker restart).
#   dynamodb  stop DynamoDB Local and start it again; in memory (the default) its tables are
#             LOST, with WEIR_DYNAMODB_DB_PATH (at up time or now) they are kept.
#   --hard    SIGKILL instead of SIGTERM (crash, no controlled shutdown)
#   --pause N stay down N seconds before starting again (default 0)
#   --no-wait do not wait for readiness after starting
#
# If the service was never started by up.sh, it is started as up.sh would.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

[[ $# -ge 1 ]] || usage
svc="$1"; shift
sig=TERM
pause=0
do_wait=yes
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hard) sig=KILL ;;
    --pause) [[ $# -ge 2 ]] || usage; pause="$2"; shift ;;
    --no-wait) do_wait=no ;;
    -h|--help) usage 0 ;;
    *) usage ;;
  esac
  shift
done
[[ "$pause" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--pause needs a number of seconds"

T0="$(now_ms)"
require_java
require_node_modules
ensure_dirs

case "$svc" in
  kafka)
    ensure_kafka_jars
    data="$(kafka_data_dir || true)"
    if [[ -n "$data" && -f "$data/meta.properties" && -f "$KAFKA_STATE_DIR/server.properties" ]]; then
      stop_service kafka "${WEIR_KAFKA_STOP_TIMEOUT:-30}" "$sig"
      if [[ "$pause" != 0 ]]; then say "kafka: staying down for ${pause}s"; sleep "$pause"; fi
      say "kafka: restarting on existing data dir ${data#"$REPO_ROOT"/}"
    else
      our_pid kafka >/dev/null && die "kafka is running but its data dir is unknown; run down.sh then up.sh"
      say "kafka: no existing storage (not started by up.sh?) - starting with fresh storage"
      prepare_fresh_kafka
    fi
    start_kafka_process
    ep="$(kafka_endpoint)"
    [[ "$do_wait" == yes ]] && { wait_ready --timeout "$READY_TIMEOUT" --kafka "$ep" \
        --kafka-pid "$(cat "$(pid_file kafka)")" --kafka-log "$KAFKA_LOG" || die "kafka did not become ready; see $KAFKA_LOG"; }
    ;;
  dynamodb)
    ensure_dynamodb_jars
    ep="$(dynamodb_endpoint)"
    port="${ep##*:}"
    db="$(dynamodb_db_path)"
    stop_service dynamodb "${WEIR_DYNAMODB_STOP_TIMEOUT:-15}" "$sig"
    if [[ "$pause" != 0 ]]; then say "dynamodb: staying down for ${pause}s"; sleep "$pause"; fi
    start_dynamodb_process "$port" "$db"
    if [[ -z "$db" ]]; then say "dynamodb: note it runs -inMemory, so all tables are gone after this restart"; fi
    [[ "$do_wait" == yes ]] && { wait_ready --timeout "$READY_TIMEOUT" --dynamodb "$ep" \
        --dynamodb-pid "$(cat "$(pid_file dynamodb)")" --dynamodb-log "$DYNAMODB_LOG" || die "DynamoDB Local did not become ready; see $DYNAMODB_LOG"; }
    ;;
  *) usage ;;
esac
say "$svc restarted in $(elapsed_since "$T0")"
