#!/usr/bin/env bash
# What `make run` and `make test` need on this machine, set up on the way:
# RabbitMQ, PostgreSQL and Redis on their configured addresses, Python's venv
# module, and with --browser (make test) Chromium with a Korean font.
# For each: reachable (or installed) -> nothing; installed but stopped -> start
# it; missing -> `apt-get install -y ...` when run as root, otherwise print the
# one command to run and exit 1. A server configured on another host is only
# checked: it is not ours to install or start.
set -uo pipefail

browser=false
[ "${1:-}" = "--browser" ] && browser=true
wait_seconds=${PC_INFRA_WAIT_SECONDS:-60}
pg_conf_root=${PC_POSTGRES_CONF_ROOT:-/etc/postgresql}

amqp_uri=${PC_AMQP_URI:-pyamqp://guest:guest@127.0.0.1:5672/}
redis_url=${PC_REDIS_URL:-redis://127.0.0.1:6379/0}

host_port() {  # URL default-port -> "host port"
  local hostport host port
  hostport=$(sed -E 's#^[a-z]+://([^@/]*@)?([^/]*).*#\2#' <<<"$1")
  host=${hostport%:*}; port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=$2
  echo "$host $port"
}
read -r amqp_host amqp_port < <(host_port "$amqp_uri" 5672)
read -r redis_host redis_port < <(host_port "$redis_url" 6379)
pg_host=${PC_POSTGRES_HOST:-127.0.0.1}; pg_port=${PC_POSTGRES_PORT:-5432}

reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
local_host() { case "$1" in 127.0.0.1|localhost|::1|\[::1\]) return 0;; *) return 1;; esac; }
installed() { command -v "$1" >/dev/null; }
korean_font() { installed fc-list && [ -n "$(fc-list :lang=ko family 2>/dev/null)" ]; }

wait_for() {  # name host port
  for _ in $(seq 1 "$wait_seconds"); do reachable "$2" "$3" && return 0; sleep 1; done
  echo "$1 did not come up on $2:$3 within ${wait_seconds}s." >&2
  return 1
}

# name host port command package: one server's decision.
servers=(
  "RabbitMQ|$amqp_host|$amqp_port|rabbitmq-server|rabbitmq-server"
  "PostgreSQL|$pg_host|$pg_port|pg_ctlcluster|postgresql"
  "Redis|$redis_host|$redis_port|redis-server|redis-server"
)

missing=()      # Debian packages to install
to_start=()     # servers installed here but not answering
for entry in "${servers[@]}"; do
  IFS='|' read -r name host port command package <<<"$entry"
  reachable "$host" "$port" && continue
  if ! local_host "$host"; then
    echo "$name is not reachable at $host:$port: start it there, or point the platform at a running one (README, Configuration)." >&2
    exit 1
  fi
  installed "$command" || missing+=("$package")
  to_start+=("$entry")
done
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if $browser; then
  installed chromium || missing+=(chromium)
  korean_font || missing+=(fonts-nanum)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing here: ${missing[*]}. Install them with this one command, then run make again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} (apt-get)."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" || { echo "apt-get could not install ${missing[*]}." >&2; exit 1; }
  fresh_postgres=false
  [[ " ${missing[*]} " == *" postgresql "* ]] && fresh_postgres=true
fi

postgres_clusters() { pg_lsclusters -h 2>/dev/null | awk '{print $1, $2, $4}'; }  # version name status

trust_loopback() {  # a fresh PostgreSQL: the default URLs carry no password (development machines only)
  while read -r version cluster _status; do
    hba="$pg_conf_root/$version/$cluster/pg_hba.conf"
    [ -f "$hba" ] || continue
    sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload >/dev/null 2>&1 || true
  done < <(postgres_clusters)
}

start() {  # name
  case "$1" in
    RabbitMQ) rabbitmq-server -detached >/dev/null 2>&1 ;;
    PostgreSQL)
      while read -r version cluster status; do
        [ "$status" = online ] || pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >/dev/null 2>&1
      done < <(postgres_clusters) ;;
    Redis) redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no >/dev/null ;;
  esac
}

for entry in "${to_start[@]+"${to_start[@]}"}"; do
  IFS='|' read -r name host port _command _package <<<"$entry"
  reachable "$host" "$port" && continue   # apt-get started it
  echo "$name is stopped; starting it."
  start "$name" || true
  wait_for "$name" "$host" "$port" || exit 1
done
if ${fresh_postgres:-false}; then trust_loopback; fi
exit 0
