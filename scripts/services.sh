#!/usr/bin/env bash
# Throwaway PostGIS and Redis servers on loopback, for the test suite and benchmarks.
#   services.sh start-postgis DIR PORT   initialise a cluster in DIR (if new) and start it
#   services.sh stop-postgis DIR
#   services.sh start-redis DIR PORT
#   services.sh stop-redis DIR
#   services.sh free-port PORT            the first free loopback port from PORT up
# Servers are stopped by the PID they wrote, never by name.
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin

case "${1:-}" in
  start-postgis)
    dir=$2 port=$3
    mkdir -p "$dir" && chown postgres "$dir" "$(dirname "$dir")"
    if [ ! -f "$dir/PG_VERSION" ]; then
      su postgres -c "$PG_BIN/initdb -D $dir -U postgres -A trust" >/dev/null
    fi
    # Durability settings off: these clusters hold throwaway test data only.
    su postgres -c "$PG_BIN/pg_ctl -D $dir -l $dir/log -w -o '-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start" >/dev/null
    ;;
  stop-postgis)
    dir=$2
    if [ -f "$dir/postmaster.pid" ]; then
      pid=$(head -1 "$dir/postmaster.pid")
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    ;;
  start-redis)
    dir=$2 port=$3
    mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$dir/redis.pid" \
      --dir "$dir" --save '' --appendonly no >/dev/null
    for _ in $(seq 50); do [ -s "$dir/redis.pid" ] && break; sleep 0.1; done
    ;;
  stop-redis)
    dir=$2
    if [ -s "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
    ;;
  free-port)
    port=$2
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
    ;;
  *)
    echo "usage: $0 start-postgis|stop-postgis|start-redis|stop-redis|free-port ..." >&2
    exit 2
    ;;
esac
