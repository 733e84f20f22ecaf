# shellcheck shell=bash
# Weir local services: shared helpers for up.sh / down.sh / restart-one.sh.
# Sourced, not executed. Requires bash 4+, java 17+, mvn (first start only), node 20+.
#
# Environment knobs (all optional):
#   WEIR_KAFKA_PORT              Kafka PLAINTEXT listener            (default 9092)
#   WEIR_KAFKA_CONTROLLER_PORT   KRaft controller listener           (default 9093)
#   WEIR_DYNAMODB_PORT           DynamoDB Local HTTP port            (default 8000)
#   WEIR_DYNAMODB_DB_PATH        DynamoDB Local keeps its tables in this directory (-dbPath,
#                                survives restart-one.sh) instead of in memory (default: unset)
#   WEIR_LOCAL_DIR               pid files, logs and Kafka storage   (default <repo>/.local);
#                                another directory runs a second, independent set of services
#   WEIR_LOCAL_READY_TIMEOUT     seconds to wait for readiness       (default 90)
#   WEIR_LOCAL_CACHE             jar cache root      (default ${XDG_CACHE_HOME:-~/.cache}/weir-local)
#   WEIR_KAFKA_HEAP_OPTS         Kafka JVM heap      (default "-Xms256m -Xmx512m")
#   WEIR_DYNAMODB_HEAP_OPTS      DynamoDB Local heap (default "-Xms64m -Xmx384m")
#   WEIR_KAFKA_EXTRA_CONFIG      extra server.properties lines (key=value, newline-separated)
#   WEIR_KAFKA_STOP_TIMEOUT / WEIR_DYNAMODB_STOP_TIMEOUT  seconds before SIGKILL (30 / 15)

WEIR_LOCAL_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$WEIR_LOCAL_SCRIPT_DIR/../.." && pwd -P)"

LOCAL_DIR="${WEIR_LOCAL_DIR:-$REPO_ROOT/.local}"
RUN_DIR="$LOCAL_DIR/run"
LOG_DIR="$LOCAL_DIR/logs"
KAFKA_STATE_DIR="$LOCAL_DIR/kafka"

# Versions resolved from Maven Central (see pom.xml). The cache is keyed by them.
KAFKA_VERSION="3.9.2"
DYNAMODB_LOCAL_VERSION="2.6.1"

BIND_HOST="127.0.0.1"
KAFKA_PORT="${WEIR_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${WEIR_KAFKA_CONTROLLER_PORT:-9093}"
DYNAMODB_PORT="${WEIR_DYNAMODB_PORT:-8000}"
# shellcheck disable=SC2034  # used by the scripts that source this file
READY_TIMEOUT="${WEIR_LOCAL_READY_TIMEOUT:-90}"

CACHE_ROOT="${WEIR_LOCAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weir-local}"
M2_REPO="$CACHE_ROOT/m2"
KAFKA_HOME="$CACHE_ROOT/kafka-$KAFKA_VERSION"
DYNAMODB_HOME="$CACHE_ROOT/dynamodb-local-$DYNAMODB_LOCAL_VERSION"

KAFKA_LOG="$LOG_DIR/kafka.log"
DYNAMODB_LOG="$LOG_DIR/dynamodb.log"

say()  { printf '[weir-local] %s\n' "$*"; }
warn() { printf '[weir-local] WARNING: %s\n' "$*" >&2; }
die()  { printf '[weir-local] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
elapsed_since() { # $1 = start ms -> "12.3s"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%ds' $(( d / 1000 )) $(( (d % 1000) / 100 ))
}

ensure_dirs() { mkdir -p "$RUN_DIR" "$LOG_DIR" "$KAFKA_STATE_DIR"; }

# ---------------------------------------------------------------- prerequisites

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Java 17+ is required)"
  local v major
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  major="${v%%.*}"
  [[ "$major" == "1" ]] && major="$(echo "$v" | cut -d. -f2)"
  if [[ ! "$major" =~ ^[0-9]+$ ]] || (( major < 17 )); then
    die "Java 17+ is required (found: ${v:-unknown}); DynamoDB Local 2.x needs 17"
  fi
}

require_node_modules() {
  command -v node >/dev/null 2>&1 || die "node not found on PATH (Node 20+ is required)"
  local m
  for m in kafkajs @aws-sdk/client-dynamodb; do
    [[ -d "$REPO_ROOT/node_modules/$m" ]] || die "$m is not installed in $REPO_ROOT/node_modules: run 'npm ci' first"
  done
}

# ------------------------------------------------------------------ jar cache

pom_sum() { sha256sum "$WEIR_LOCAL_SCRIPT_DIR/pom.xml" | cut -c1-16; }

# mvn_resolve PROFILE DEST: copy the profile's jars into DEST (atomically, via DEST.tmp.PID)
mvn_resolve() {
  local profile="$1" dest="$2"
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) not found on PATH; it is needed once to fetch jars from Maven Central"
  mkdir -p "$CACHE_ROOT" "$LOG_DIR"
  local tmp="$dest.tmp.$$" mlog="$LOG_DIR/resolve-$profile.log" t0 n=0 line rc
  rm -rf "$tmp"
  t0="$(now_ms)"
  say "  mvn: resolving profile '$profile' (Maven log: $mlog)"
  set +o pipefail
  mvn -B -f "$WEIR_LOCAL_SCRIPT_DIR/pom.xml" \
      -Dmaven.repo.local="$M2_REPO" \
      -P"$profile" -Dweir.out="$tmp" \
      -Dkafka.version="$KAFKA_VERSION" -Ddynamodb-local.version="$DYNAMODB_LOCAL_VERSION" \
      generate-resources 2>&1 \
    | tee "$mlog" \
    | while IFS= read -r line; do
        case "$line" in
          *"Downloaded from"*)
            n=$((n + 1))
            if (( n % 25 == 0 )); then say "  mvn: $n files downloaded so far..."; fi ;;
          *"[ERROR]"*|*"BUILD FAILURE"*)
            printf '[weir-local]   %s\n' "$line" >&2 ;;
        esac
      done
  rc="${PIPESTATUS[0]}"
  set -o pipefail
  if [[ "$rc" != "0" ]]; then
    rm -rf "$tmp"
    die "Maven could not resolve the '$profile' jars (exit $rc); full log: $mlog"
  fi
  compgen -G "$tmp/lib/*.jar" >/dev/null || { rm -rf "$tmp"; die "Maven produced no jars for '$profile'; see $mlog"; }
  pom_sum >"$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  say "  mvn: '$profile' ready in $(elapsed_since "$t0"): $(find "$dest/lib" -name '*.jar' | wc -l) jars, $(du -sh "$dest" | cut -f1) in $dest"
}

cache_ok() { [[ -f "$1/.complete" && "$(cat "$1/.complete")" == "$(pom_sum)" ]]; }

ensure_kafka_jars() {
  if cache_ok "$KAFKA_HOME"; then return 0; fi
  say "Kafka $KAFKA_VERSION: fetching jars from Maven Central into $KAFKA_HOME (first start only; may take a few minutes)"
  mvn_resolve kafka "$KAFKA_HOME"
}

ensure_dynamodb_jars() {
  if ! cache_ok "$DYNAMODB_HOME"; then
    say "DynamoDB Local $DYNAMODB_LOCAL_VERSION: fetching jars from Maven Central into $DYNAMODB_HOME (first start only; may take a few minutes)"
    mvn_resolve dynamodb "$DYNAMODB_HOME"
  fi
  [[ -f "$DYNAMODB_HOME/native/libsqlite4java-linux-amd64.so" ]] \
    || die "sqlite4java native library missing in $DYNAMODB_HOME/native (delete $DYNAMODB_HOME and retry)"
  # The bind-to-127.0.0.1 launcher, compiled once per source version.
  local src="$WEIR_LOCAL_SCRIPT_DIR/DynamoDBLocalLoopback.java" sum
  sum="$(sha256sum "$src" | cut -c1-12)"
  DYNAMODB_LAUNCHER_DIR="$DYNAMODB_HOME/launcher-$sum"
  if [[ ! -f "$DYNAMODB_LAUNCHER_DIR/DynamoDBLocalLoopback.class" ]]; then
    command -v javac >/dev/null 2>&1 || die "javac not found (a JDK 17+ is required, not just a JRE)"
    say "DynamoDB Local: compiling the 127.0.0.1 launcher"
    rm -rf "$DYNAMODB_HOME"/launcher-*
    local tmp="$DYNAMODB_LAUNCHER_DIR.tmp.$$"
    mkdir -p "$tmp"
    javac -nowarn -cp "$DYNAMODB_HOME/lib/*" -d "$tmp" "$src" || { rm -rf "$tmp"; die "could not compile $src"; }
    mv "$tmp" "$DYNAMODB_LAUNCHER_DIR"
  fi
}

# ------------------------------------------------------------ process helpers

pid_file() { echo "$RUN_DIR/$1.pid"; }

# Marker put on the java command line so a pid is only ever taken for ours.
service_marker() { echo "-Dweir.local.service=$1@$REPO_ROOT"; }

# pid_running PID: true while any thread of the process is alive. After SIGKILL the JVM's
# main thread can already be a zombie while other threads still hold the sockets open.
pid_running() {
  local pid="$1" state
  [[ -d "/proc/$pid" ]] || return 1
  state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$state" ]] || return 1
  if [[ "$state" == Z || "$state" == X ]]; then
    local tasks=("/proc/$pid/task"/*)
    (( ${#tasks[@]} > 1 )) || return 1
  fi
  return 0
}

# our_pid NAME: print the pid of our running NAME process (checked by its command-line marker), or return 1
our_pid() {
  local f pid
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [[ -n "$pid" ]] && pid_running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(service_marker "$1") " || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/$BIND_HOST/$1") 2>/dev/null; }

# wait_port_free PORT WHAT: a just-stopped process may hold the port a moment longer
wait_port_free() {
  local i
  for ((i = 0; i < 100; i++)); do
    port_in_use "$1" || return 0
    sleep 0.1
  done
  die "port $1 on $BIND_HOST is already in use by another process ($2)"
}

# launch NAME LOGFILE CMD...: run CMD detached (own session, no tty, stdin from /dev/null),
# appending to LOGFILE; writes the pid file. Double fork so that the service is not our
# child (a dead service must not linger as a zombie that still "exists").
launch() {
  local name="$1" log="$2"; shift 2
  local pf; pf="$(pid_file "$name")"
  rm -f "$pf"
  printf '\n===== [weir-local] %s starting at %s =====\n' "$name" "$(date -Is)" >>"$log"
  (
    cd "$LOCAL_DIR" || exit 1
    # shellcheck disable=SC2016  # $$ and $@ are for the inner bash
    setsid nohup bash -c 'echo $$ > "$0"; exec "$@"' "$pf" "$@" >>"$log" 2>&1 </dev/null &
  )
  local i
  for i in $(seq 1 50); do
    [[ -s "$pf" ]] && break
    sleep 0.1
  done
  [[ -s "$pf" ]] || die "$name did not start (no pid file); see $log"
}

# stop_service NAME GRACE_SECONDS [SIGNAL]: TERM (or SIGNAL), then KILL after the grace period.
stop_service() {
  local name="$1" grace="$2" sig="${3:-TERM}" pid pf i
  pf="$(pid_file "$name")"
  if ! pid="$(our_pid "$name")"; then
    [[ -f "$pf" ]] && say "$name: stale pid file removed (process not running)"
    rm -f "$pf"
    return 0
  fi
  say "$name: stopping pid $pid (SIG$sig)"
  kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
  # from here on follow the pid itself: a dying JVM's command line may already read empty
  for ((i = 0; i < grace * 10; i++)); do
    pid_running "$pid" || break
    sleep 0.1
  done
  if pid_running "$pid"; then
    warn "$name: still running after ${grace}s, sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pid_running "$pid" || break
      sleep 0.1
    done
  fi
  pid_running "$pid" && die "$name: pid $pid could not be stopped"
  rm -f "$pf"
  say "$name: stopped"
}

rotate_log() { [[ -f "$1" ]] && mv -f "$1" "$1.1"; return 0; }

# ------------------------------------------------------------------- Kafka

kafka_data_dir() { [[ -f "$KAFKA_STATE_DIR/data-dir" ]] && cat "$KAFKA_STATE_DIR/data-dir"; }

# Kafka Uuid: 16 random bytes, base64url without padding, not starting with '-'.
new_cluster_id() {
  node -e '
    const c = require("crypto"); let id;
    do { id = c.randomBytes(16).toString("base64url"); } while (id.startsWith("-"));
    process.stdout.write(id);'
}

write_kafka_config() { # $1 = data dir
  cat >"$KAFKA_STATE_DIR/server.properties" <<EOF
# Generated by scripts/local/up.sh - single-node KRaft (combined broker + controller).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$BIND_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$BIND_HOST:$KAFKA_PORT,CONTROLLER://$BIND_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$BIND_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$1
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# small machine: fewer threads
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
# No time-based retention: records carry their event time as timestamp, often long past
# (test data is from 2023), and would be deleted at the next retention check mid-run.
log.retention.ms=-1
EOF
  # Extra broker settings, one key=value per line (e.g. broker.session.timeout.ms=4000
  # to shorten re-registration after a SIGKILL in fault tests).
  if [[ -n "${WEIR_KAFKA_EXTRA_CONFIG:-}" ]]; then
    printf '# from WEIR_KAFKA_EXTRA_CONFIG\n%s\n' "$WEIR_KAFKA_EXTRA_CONFIG" >>"$KAFKA_STATE_DIR/server.properties"
  fi
  cat >"$KAFKA_STATE_DIR/log4j.properties" <<'EOF'
# Generated by scripts/local/up.sh - everything goes to stdout (captured in .local/logs/kafka.log)
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage.internals.log.LogConfig=WARN
# per-partition chatter (50 __consumer_offsets partitions are created/loaded at startup)
log4j.logger.kafka.log.UnifiedLog$=WARN
log4j.logger.kafka.log.LogLoader=WARN
log4j.logger.kafka.log.LogManager=WARN
log4j.logger.kafka.cluster.Partition=WARN
log4j.logger.kafka.coordinator.group.GroupMetadataManager=WARN
log4j.logger.org.apache.kafka.storage.internals.log.ProducerStateManager=WARN
EOF
  printf '%s:%s\n' "$BIND_HOST" "$KAFKA_PORT" >"$RUN_DIR/kafka.endpoint"
}

kafka_java_common() { # sets the KAFKA_JAVA_COMMON array
  KAFKA_JAVA_COMMON=("-Dlog4j.configuration=file:$KAFKA_STATE_DIR/log4j.properties"
                     "-Dkafka.logs.dir=$LOG_DIR" "-Djava.awt.headless=true")
}

# Fresh storage: new temp data dir + new cluster id + kafka-storage format.
prepare_fresh_kafka() {
  ensure_dirs
  local old
  old="$(kafka_data_dir || true)"
  [[ -n "$old" && -d "$old" ]] && rm -rf "$old"
  rm -rf "$KAFKA_STATE_DIR"/data.*
  local data cid t0
  data="$(mktemp -d "$KAFKA_STATE_DIR/data.XXXXXX")"
  echo "$data" >"$KAFKA_STATE_DIR/data-dir"
  write_kafka_config "$data"
  cid="$(new_cluster_id)"
  t0="$(now_ms)"
  kafka_java_common
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${KAFKA_JAVA_COMMON[@]}" \
       -cp "$KAFKA_HOME/lib/*" kafka.tools.StorageTool format \
       -t "$cid" -c "$KAFKA_STATE_DIR/server.properties" >"$LOG_DIR/kafka-format.log" 2>&1 \
    || die "kafka-storage format failed; see $LOG_DIR/kafka-format.log"
  say "Kafka: storage formatted in $(elapsed_since "$t0") (cluster id $cid, data dir ${data#"$REPO_ROOT"/})"
}

# start_kafka_process: launch the broker with the existing server.properties / data dir.
start_kafka_process() {
  local data; data="$(kafka_data_dir || true)"
  [[ -n "$data" && -f "$data/meta.properties" && -f "$KAFKA_STATE_DIR/server.properties" ]] \
    || die "Kafka storage is not prepared (run scripts/local/up.sh)"
  local ep port cport
  ep="$(kafka_endpoint)"
  port="${ep##*:}"
  cport="$(sed -n 's/^controller.quorum.voters=.*:\([0-9]*\)$/\1/p' "$KAFKA_STATE_DIR/server.properties")"
  wait_port_free "$port" "set WEIR_KAFKA_PORT"
  wait_port_free "$cport" "set WEIR_KAFKA_CONTROLLER_PORT"
  kafka_java_common
  # shellcheck disable=SC2086
  launch kafka "$KAFKA_LOG" java ${WEIR_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:ActiveProcessorCount=2 \
    "${KAFKA_JAVA_COMMON[@]}" "$(service_marker kafka)" \
    -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$KAFKA_STATE_DIR/server.properties"
  say "Kafka $KAFKA_VERSION: started pid $(cat "$(pid_file kafka)") on $ep (controller :$cport), log ${KAFKA_LOG#"$REPO_ROOT"/}"
}

remove_kafka_storage() {
  local d; d="$(kafka_data_dir || true)"
  [[ -n "$d" && -d "$d" ]] && rm -rf "$d"
  rm -rf "$KAFKA_STATE_DIR"/data.* "$KAFKA_STATE_DIR/data-dir"
}

kafka_endpoint() {
  if [[ -f "$RUN_DIR/kafka.endpoint" ]]; then cat "$RUN_DIR/kafka.endpoint"; else echo "$BIND_HOST:$KAFKA_PORT"; fi
}

# ------------------------------------------------------------- DynamoDB Local

# start_dynamodb_process PORT [DB_PATH]: in memory, or with its tables in DB_PATH (-dbPath),
# where they survive a restart. The choice is recorded for restart-one.sh.
start_dynamodb_process() {
  local port="$1" db="${2:-}"
  local -a storage
  wait_port_free "$port" "set WEIR_DYNAMODB_PORT"
  echo "http://$BIND_HOST:$port" >"$RUN_DIR/dynamodb.endpoint"
  if [[ -n "$db" ]]; then
    mkdir -p "$db" || die "cannot create the DynamoDB Local data dir $db (WEIR_DYNAMODB_DB_PATH)"
    db="$(cd "$db" && pwd -P)" # the JVM runs in $LOCAL_DIR: make it absolute
    storage=(-dbPath "$db")
    echo "$db" >"$RUN_DIR/dynamodb.db-path"
  else
    storage=(-inMemory)
    rm -f "$RUN_DIR/dynamodb.db-path"
  fi
  # shellcheck disable=SC2086
  launch dynamodb "$DYNAMODB_LOG" java ${WEIR_DYNAMODB_HEAP_OPTS:--Xms64m -Xmx384m} \
    -XX:+UseSerialGC -XX:ActiveProcessorCount=2 -Djava.awt.headless=true \
    -Djava.library.path="$DYNAMODB_HOME/native" -Dweir.bindHost="$BIND_HOST" \
    "$(service_marker dynamodb)" \
    -cp "$DYNAMODB_HOME/lib/*:$DYNAMODB_LAUNCHER_DIR" DynamoDBLocalLoopback \
    "${storage[@]}" -sharedDb -port "$port" -disableTelemetry
  say "DynamoDB Local $DYNAMODB_LOCAL_VERSION: started pid $(cat "$(pid_file dynamodb)") on http://$BIND_HOST:$port (${db:-in memory}), log ${DYNAMODB_LOG#"$REPO_ROOT"/}"
}

# Where restart-one.sh keeps DynamoDB Local's tables: WEIR_DYNAMODB_DB_PATH, else what the
# running instance was started with; empty = in memory.
dynamodb_db_path() {
  if [[ -n "${WEIR_DYNAMODB_DB_PATH:-}" ]]; then echo "$WEIR_DYNAMODB_DB_PATH"
  elif [[ -f "$RUN_DIR/dynamodb.db-path" ]]; then cat "$RUN_DIR/dynamodb.db-path"
  fi
}

dynamodb_endpoint() {
  if [[ -f "$RUN_DIR/dynamodb.endpoint" ]]; then cat "$RUN_DIR/dynamodb.endpoint"; else echo "http://$BIND_HOST:$DYNAMODB_PORT"; fi
}

# ------------------------------------------------------------------ readiness

wait_ready() { # args passed to wait-ready.js
  node "$WEIR_LOCAL_SCRIPT_DIR/wait-ready.js" "$@"
}
