#!/usr/bin/env bash
# Weir local services: stop Kafka and DynamoDB Local started by up.sh. `npm run local:down`.
# Stops by pid (SIGTERM, SIGKILL after a bounded wait), removes the pid files and Kafka's
# temporary storage. Idempotent: nothing running is fine (exit 0).
# Processes not started by these scripts (e.g. docker compose) are never touched.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ! -d "$LOCAL_DIR" ]]; then
  say "nothing to stop (no ${LOCAL_DIR#"$REPO_ROOT"/}/ folder)"
  exit 0
fi

had_any=no
for name in kafka dynamodb; do
  if our_pid "$name" >/dev/null; then had_any=yes; fi
done

# Kafka gets longer: a controlled shutdown flushes logs and closes the raft log.
stop_service kafka "${WEIR_KAFKA_STOP_TIMEOUT:-30}"
stop_service dynamodb "${WEIR_DYNAMODB_STOP_TIMEOUT:-15}"

if [[ -n "$(kafka_data_dir 2>/dev/null || true)" ]] || compgen -G "$KAFKA_STATE_DIR/data.*" >/dev/null; then
  remove_kafka_storage
  say "Kafka temporary storage removed"
fi
rm -f "$RUN_DIR/kafka.endpoint" "$RUN_DIR/dynamodb.endpoint"

[[ "$had_any" == no ]] && say "nothing was running"

# Something still listening (not ours) is worth a word, not a failure.
kp="$KAFKA_PORT"; dp="$DYNAMODB_PORT"
for p in "$kp" "$KAFKA_CONTROLLER_PORT" "$dp"; do
  if port_in_use "$p"; then
    warn "port $p on $BIND_HOST is still in use by a process these scripts did not start"
  fi
done
say "down"
