#!/usr/bin/env bash
# Check RabbitMQ and PostgreSQL on their configured addresses; start the local
# servers when they are installed but stopped; otherwise say how to get them.
set -uo pipefail
amqp_uri=${PC_AMQP_URI:-pyamqp://guest:guest@127.0.0.1:5672/}
amqp_hostport=$(sed -E 's#^[a-z]+://([^@]*@)?([^/]*).*#\2#' <<<"$amqp_uri")
amqp_host=${amqp_hostport%:*}; amqp_port=${amqp_hostport##*:}
[ "$amqp_port" = "$amqp_host" ] && amqp_port=5672
pg_host=${PC_POSTGRES_HOST:-127.0.0.1}; pg_port=${PC_POSTGRES_PORT:-5432}

reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

wait_for() {  # host port seconds
  for _ in $(seq 1 "$3"); do reachable "$1" "$2" && return 0; sleep 1; done
  return 1
}

if ! reachable "$amqp_host" "$amqp_port"; then
  if command -v rabbitmq-server >/dev/null; then
    echo "RabbitMQ is stopped; starting it."
    rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_for "$amqp_host" "$amqp_port" 60 || { echo "RabbitMQ did not come up on $amqp_host:$amqp_port." >&2; exit 1; }
  else
    echo "RabbitMQ is not reachable at $amqp_host:$amqp_port and not installed here: install it with 'apt-get install rabbitmq-server' or point PC_AMQP_URI at a running broker." >&2
    exit 1
  fi
fi

if ! reachable "$pg_host" "$pg_port"; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is stopped; starting it."
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    done
    wait_for "$pg_host" "$pg_port" 60 || { echo "PostgreSQL did not come up on $pg_host:$pg_port." >&2; exit 1; }
  else
    echo "PostgreSQL is not reachable at $pg_host:$pg_port and not installed here: install it with 'apt-get install postgresql' or point PC_<SERVICE>_DATABASE_URL at a running server." >&2
    exit 1
  fi
fi
