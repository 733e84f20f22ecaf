#!/usr/bin/env bash
# Weir local services: stop Kafka and DynamoDB Local started by up.sh. `npm run local:down`.
# Stops by pid (SIGTERM, SIGKILL after a bounded wait), removes the pid files and Kafka's
# temporary storage. Idempotent: nothing running is fine (exit 0).
#   bash scripts/local/down.sh [kafka|dynamodb]...   only these (default: both)
# Processes not started by these scripts (e.g. docker compose) are never touched.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=(kafka dynamodb)
ports=()
for name in "${services[@]}"; do
  case "$name" in
    kafka) ports+=("$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT") ;;
    dynamodb) ports+=("$DYNAMODB_PORT") ;;
    *) die "usage: down.sh [kafka|dynamodb]..." ;;
  esac
done

if [[ ! -d "$LOCAL_DIR" ]]; then
  say "nothing to stop (no ${LOCAL_DIR#"$REPO_ROOT"/}/ folder)"
  exit 0
fi

had_any=no
for name in "${services[@]}"; do
  if our_pid "$name" >/dev/null; then had_any=yes; fi
done

for name in "${services[@]}"; do
  case "$name" in
    kafka)
      # Kafka gets longer: a controlled shutdown flushes logs and closes the raft log.
      stop_service kafka "${WEIR_KAFKA_STOP_TIMEOUT:-30}"
      if [[ -n "$(kafka_data_dir 2>/dev/null || true)" ]] || compgen -G "$KAFKA_STATE_DIR/data.*" >/dev/null; then
        remove_kafka_storage
        say "Kafka temporary storage removed"
      fi
      rm -f "$RUN_DIR/kafka.endpoint"
      ;;
    dynamodb)
      # A -dbPath directory (WEIR_DYNAMODB_DB_PATH) is the caller's: it is kept.
      stop_service dynamodb "${WEIR_DYNAMODB_STOP_TIMEOUT:-15}"
      rm -f "$RUN_DIR/dynamodb.endpoint" "$RUN_DIR/dynamodb.db-path"
      ;;
  esac
done

[[ "$had_any" == no ]] && say "nothing was running"

# Something still listening (not ours) is worth a word, not a failure.
for p in "${ports[@]}"; do
  if port_in_use "$p"; then
    warn "port $p on $BIND_HOST is still in use by a process these scripts did not start"
  fi
done
say "down"
