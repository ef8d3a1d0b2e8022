#!/usr/bin/env bash
# `make cluster` / `make cluster-stop`: the platform's production engines, spread
# out on this one machine, from the Debian packages already installed:
#   - a 3-node RabbitMQ cluster (nodes pcc1..3@localhost, AMQP 5681..5683, Erlang
#     distribution 25681..25683), its own Erlang cookie, data and logs under
#     run/cluster/rabbitmq/; vhost `pc` with quorum queues by default and the
#     per-subscription policies of deploy/ (`pcops rabbitmq apply`);
#   - PostgreSQL 15: a primary (node a, port 5441) and a synchronous streaming
#     standby (node b, port 5442, pg_basebackup -R), data under run/cluster/pg/.
# The default broker (rabbit@localhost, 5672) and PostgreSQL (5432) are never
# touched: every rabbitmqctl call names one of these nodes (run/cluster/bin/rabbitmqctl
# carries the cluster's cookie, which the default node does not accept).
#
#   tools/cluster.sh start|stop|status|env
#   tools/cluster.sh pg-failover     # stop the primary, promote the standby, rewind and rejoin the old one
#   tools/cluster.sh node-kill <1-3> # kill -9 of one broker node; node-start <1-3> brings it back
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${PC_CLUSTER_DIR:-$REPO/run/cluster}
RMQ_LIB=/usr/lib/rabbitmq/bin
PG_BIN=${PC_CLUSTER_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
NODES=(pcc1 pcc2 pcc3)
AMQP_PORTS=(5681 5682 5683)
DIST_PORTS=(25681 25682 25683)
PG_NODES=(a b)
PG_PORTS=(5441 5442)
VHOST=pc

say() { echo "cluster: $*" >&2; }

# --- RabbitMQ ---------------------------------------------------------------------

node_name() { echo "${NODES[$1]}@localhost"; }

ctl() {  # ctl <node index> args...: rabbitmqctl against one of our nodes only
  local i=$1; shift
  "$DIR/bin/rabbitmqctl" -n "$(node_name "$i")" "$@"
}

write_ctl_wrapper() {
  mkdir -p "$DIR/bin"
  cat >"$DIR/bin/rabbitmqctl" <<EOF
#!/bin/sh
# rabbitmqctl with the cluster's Erlang cookie (its HOME): it reaches pcc1..3@localhost only.
HOME="$DIR/rabbitmq" exec $RMQ_LIB/rabbitmqctl "\$@"
EOF
  chmod +x "$DIR/bin/rabbitmqctl"
}

node_env() {  # the environment of node i, for rabbitmq-server
  local i=$1 base="$DIR/rabbitmq/${NODES[$1]}"
  echo HOME="$DIR/rabbitmq" \
    RABBITMQ_NODENAME="$(node_name "$i")" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="${AMQP_PORTS[$i]}" \
    RABBITMQ_DIST_PORT="${DIST_PORTS[$i]}" \
    RABBITMQ_BASE="$base" RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log" \
    RABBITMQ_PID_FILE="$base/pid" \
    RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
    ERL_EPMD_ADDRESS=127.0.0.1
}

start_node() {
  local i=$1 base="$DIR/rabbitmq/${NODES[$1]}"
  mkdir -p "$base/log" "$base/mnesia"
  : >"$base/rabbitmq-env.conf"
  echo "[]." >"$base/enabled_plugins"
  cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:${AMQP_PORTS[$i]}
loopback_users.guest = true
# quorum queues need a majority: a node cut off from it pauses instead of serving stale state
cluster_partition_handling = pause_minority
log.file.level = warning
EOF
  # One scheduler, no busy-waiting: three nodes share this machine's two cores with others.
  # Started from its own directory: a crash dump lands there, not in the repository.
  cd "$base" && env $(node_env "$i") ERL_CRASH_DUMP="$base/log/erl_crash.dump" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}" \
    "$RMQ_LIB/rabbitmq-server" >"$base/log/stdout.log" 2>&1 &
  echo $! >"$base/launcher.pid"
  cd "$REPO"
}

await_node() {
  local i=$1
  for _ in $(seq 1 60); do ctl "$i" -q ping >/dev/null 2>&1 && break; sleep 1; done
  ctl "$i" -q await_startup --timeout 120 >/dev/null || {
    say "node $(node_name "$i") did not start (logs: $DIR/rabbitmq/${NODES[$i]}/log)"; return 1; }
}

node_kill() {  # kill -9 of the node's Erlang VM, as when its machine dies
  local i=$1 pid
  pid=$(cat "$DIR/rabbitmq/${NODES[$i]}/pid")
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  say "$(node_name "$i") killed (pid $pid)"
}

rabbit_start() {
  mkdir -p "$DIR/rabbitmq"
  if [ ! -f "$DIR/rabbitmq/.erlang.cookie" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/rabbitmq/.erlang.cookie"
    chmod 400 "$DIR/rabbitmq/.erlang.cookie"
  fi
  write_ctl_wrapper
  for i in 0 1 2; do ctl "$i" -q ping >/dev/null 2>&1 || start_node "$i"; done
  for i in 0 1 2; do await_node "$i" || return 1; done
  for i in 1 2; do
    if ! ctl "$i" -q cluster_status --formatter json | grep -q "$(node_name 0)"; then
      ctl "$i" -q stop_app
      ctl "$i" -q join_cluster "$(node_name 0)"
      ctl "$i" -q start_app
    fi
  done
  ctl 0 -q add_vhost "$VHOST" --default-queue-type quorum 2>/dev/null || true
  ctl 0 -q set_permissions -p "$VHOST" guest ".*" ".*" ".*"
  PATH="$DIR/bin:$PATH" RABBITMQ_NODENAME="$(node_name 0)" \
    "$REPO/.venv/bin/python" "$REPO/tools/pcops.py" rabbitmq apply --vhost "$VHOST" --node "$(node_name 0)" >/dev/null
  say "RabbitMQ cluster up: $(ctl 0 -q cluster_status --formatter json | "$REPO/.venv/bin/python" -c \
    'import json,sys; print(", ".join(json.load(sys.stdin)["running_nodes"]))')"
}

listening_pids() {  # pids listening on 127.0.0.1:<port>
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

node_pids() {  # what is left of node i: its pid files and whatever listens on its own ports
  local base="$DIR/rabbitmq/${NODES[$1]}"
  { cat "$base/pid" "$base/launcher.pid" 2>/dev/null; listening_pids "${DIST_PORTS[$1]}"
    listening_pids "${AMQP_PORTS[$1]}"; } | sort -u
}

rabbit_stop() {
  for i in 0 1 2; do
    [ -n "$(node_pids "$i")" ] || continue
    [ -x "$DIR/bin/rabbitmqctl" ] && ctl "$i" -q stop --idempotent >/dev/null 2>&1
    for pid in $(node_pids "$i"); do
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    done
    rm -f "$DIR/rabbitmq/${NODES[$i]}/pid" "$DIR/rabbitmq/${NODES[$i]}/launcher.pid"
  done
}

# --- PostgreSQL ---------------------------------------------------------------------

as_postgres() { runuser -u postgres -- "$@"; }

pg_dir() { echo "$DIR/pg/${PG_NODES[$1]}"; }

pg_ctl_node() {  # pg_ctl_node <index> start|stop|promote [args]: port and socket given here, not in the
  local i=$1 action=$2; shift 2   # (shared) config files, which pg_basebackup and pg_rewind copy between nodes
  if [ "$action" = start ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$(pg_dir "$i")" -l "$DIR/pg/${PG_NODES[$i]}.log" -w -t 120 \
      -o "-p ${PG_PORTS[$i]} -k $DIR/pg" start "$@" >/dev/null
  else
    as_postgres "$PG_BIN/pg_ctl" -D "$(pg_dir "$i")" -w -t 120 "$action" "$@" >/dev/null
  fi
}

psql_node() {  # psql_node <index> sql
  as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "${PG_PORTS[$1]}" -U postgres -d postgres -Atqc "$2"
}

pg_start() {
  mkdir -p "$DIR/pg"
  chown postgres "$DIR/pg"
  if [ ! -d "$(pg_dir 0)" ]; then
    as_postgres "$PG_BIN/initdb" -D "$(pg_dir 0)" -U postgres --auth=trust >/dev/null
    cat >>"$(pg_dir 0)/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = 64MB
wal_level = replica
max_wal_senders = 10
wal_keep_size = 256MB
hot_standby = on
wal_log_hints = on                  # pg_rewind can bring a failed primary back as a standby
# Synchronous: a commit is acknowledged once the standby has it, so a failover loses
# no acknowledged commit. tools/cluster.sh pg-failover clears it on the promoted node
# while it has no standby, and sets it again when the old primary has rejoined.
synchronous_standby_names = '*'
synchronous_commit = on
EOF
  fi
  [ -f "$(pg_dir 0)/postmaster.pid" ] || pg_ctl_node 0 start
  if [ ! -d "$(pg_dir 1)" ]; then
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORTS[0]}" -U postgres -D "$(pg_dir 1)" -R -X stream \
      >/dev/null
  fi
  [ -f "$(pg_dir 1)/postmaster.pid" ] || pg_ctl_node 1 start
  for _ in $(seq 1 60); do
    [ "$(psql_node 0 "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && break
    sleep 0.5
  done
  say "PostgreSQL up: primary 127.0.0.1:${PG_PORTS[0]}, standby 127.0.0.1:${PG_PORTS[1]} ($(psql_node 0 \
    "SELECT sync_state FROM pg_stat_replication"))"
}

pg_stop() {
  for i in 0 1; do
    [ -f "$(pg_dir "$i")/postmaster.pid" ] && pg_ctl_node "$i" stop -m fast || true
  done
}

set_sync_standbys() {  # set_sync_standbys <index> <quoted value>
  psql_node "$1" "ALTER SYSTEM SET synchronous_standby_names = $2" >/dev/null
  psql_node "$1" "SELECT pg_reload_conf()" >/dev/null
}

primary_index() {
  for i in 0 1; do
    [ "$(psql_node "$i" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && { echo "$i"; return 0; }
  done
  return 1
}

rejoin() {  # rejoin <old> <new>: the old primary follows the new one; pg_rewind, else a fresh copy
  local old=$1 new=$2 how=pg_rewind
  rm -f "$(pg_dir "$old")/standby.signal"
  if ! as_postgres "$PG_BIN/pg_rewind" -D "$(pg_dir "$old")" -R \
      --source-server="host=127.0.0.1 port=${PG_PORTS[$new]} user=postgres dbname=postgres" \
      >>"$DIR/pg/rewind.log" 2>&1 || ! pg_ctl_node "$old" start; then
    how="pg_basebackup (pg_rewind failed: $DIR/pg/rewind.log)"
    [ -f "$(pg_dir "$old")/postmaster.pid" ] && pg_ctl_node "$old" stop -m immediate
    rm -rf "$(pg_dir "$old")"
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORTS[$new]}" -U postgres -D "$(pg_dir "$old")" \
      -R -X stream >/dev/null
    pg_ctl_node "$old" start
  fi
  say "old primary ${PG_NODES[$old]} rejoined by $how"
}

pg_failover() {
  # What CloudNativePG does when the primary's pod dies: promote the standby, then
  # bring the old primary back as its standby (pg_rewind drops what it wrote alone).
  local old new
  old=$(primary_index) || { say "no primary is running"; return 1; }
  new=$((1 - old))
  pg_ctl_node "$old" stop -m immediate
  say "primary ${PG_NODES[$old]} (${PG_PORTS[$old]}) stopped"
  pg_promote "$new"
}

pg_promote() {  # pg_promote <index>: the standby becomes the primary, the other node rejoins it
  local new=$1 old=$((1 - $1))
  pg_ctl_node "$new" promote
  # pg_rewind reads the new timeline from the source's control file, written by a checkpoint
  psql_node "$new" "CHECKPOINT" >/dev/null
  set_sync_standbys "$new" "''"
  say "standby ${PG_NODES[$new]} (${PG_PORTS[$new]}) promoted"
  rejoin "$old" "$new"
  for _ in $(seq 1 60); do
    if [ "$(psql_node "$new" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ]; then
      set_sync_standbys "$new" "'*'"   # only once it streams: commits would wait for it otherwise
      break
    fi
    sleep 0.5
  done
  say "old primary ${PG_NODES[$old]} rejoined as standby ($(psql_node "$new" \
    "SELECT state || ', ' || sync_state FROM pg_stat_replication"))"
}

# --- commands ----------------------------------------------------------------------

env_lines() {
  local amqp="" pg=""
  for i in 0 1 2; do amqp+="${amqp:+;}pyamqp://guest:guest@127.0.0.1:${AMQP_PORTS[$i]}/$VHOST"; done
  echo "PC_AMQP_URI='$amqp'"
  echo "PC_CLUSTER_POSTGRES='postgresql://postgres@127.0.0.1:${PG_PORTS[0]},127.0.0.1:${PG_PORTS[1]}'"
  local nodes=""
  for i in 0 1 2; do nodes+="${nodes:+ }$(node_name "$i")=${AMQP_PORTS[$i]}"; done
  echo "PC_CLUSTER_NODES='$nodes'"
  echo "# each service: PC_<SERVICE>_DATABASE_URL=\$PC_CLUSTER_POSTGRES/pc_<service>?target_session_attrs=read-write"
}

status() {
  for i in 0 1 2; do
    printf '%s: ' "$(node_name "$i")"
    ctl "$i" -q status --formatter json >/dev/null 2>&1 && echo running || echo stopped
  done
  for i in 0 1; do
    printf 'postgres %s (%s): ' "${PG_NODES[$i]}" "${PG_PORTS[$i]}"
    case "$(psql_node "$i" "SELECT pg_is_in_recovery()" 2>/dev/null)" in
      f) echo primary ;; t) echo standby ;; *) echo stopped ;;
    esac
  done
}

case "${1:-}" in
  start)
    rabbit_start || { rabbit_stop; exit 1; }
    pg_start || { pg_stop; rabbit_stop; exit 1; }
    env_lines
    ;;
  stop)
    pg_stop
    rabbit_stop
    rm -rf "$DIR"
    say "stopped and removed"
    ;;
  status) status ;;
  env) env_lines ;;
  pg-failover) pg_failover ;;
  node-kill) node_kill "$(( ${2:?node 1-3} - 1 ))" ;;
  node-start) start_node "$(( ${2:?node 1-3} - 1 ))"; await_node "$(( $2 - 1 ))" ;;
  *) echo "usage: $0 start|stop|status|env|pg-failover" >&2; exit 2 ;;
esac
