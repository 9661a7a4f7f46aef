#!/usr/bin/env bash
# Sets fieldkit up and runs the whole suite: lint, type checks, migrations check,
# docker-compose validation, then pytest on SpatiaLite and on a PostGIS 15 cluster (with a
# Redis broker) that this script starts on loopback ports and stops afterwards.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=.venv/bin/python
unset DATABASE_URL CELERY_BROKER_URL

echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== migrations"; $PY manage.py makemigrations --check --dry-run
echo "== docker-compose"; docker-compose -f docker-compose.yml config -q && echo ok

free_port() {
  $PY - "$1" <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
while True:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            break
        except OSError:
            port += 1
print(port)
PYEOF
}

WORK=$(mktemp -d /tmp/fieldkit-test.XXXXXX)
PG_BIN=/usr/lib/postgresql/15/bin
PG_DIR=$WORK/pg
cleanup() {
  if [ -f "$PG_DIR/postmaster.pid" ]; then
    kill -INT "$(head -1 "$PG_DIR/postmaster.pid")" 2>/dev/null || true
  fi
  if [ -f "$WORK/redis.pid" ]; then kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true; fi
  sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== pytest on SpatiaLite"
$PY -m pytest -q -n 2 "$@"

PG_PORT=$(free_port "${FIELDKIT_TEST_PG_PORT:-55432}")
REDIS_PORT=$(free_port "${FIELDKIT_TEST_REDIS_PORT:-56379}")
mkdir -p "$PG_DIR" && chown postgres "$WORK" "$PG_DIR"
su postgres -c "$PG_BIN/initdb -D $PG_DIR -U postgres -A trust" >/dev/null
su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR -l $PG_DIR/log -w -o '-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start" >/dev/null
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --pidfile "$WORK/redis.pid" --save '' --appendonly no >/dev/null

echo "== pytest on PostGIS (port $PG_PORT, redis $REDIS_PORT)"
DATABASE_URL="postgis://postgres@127.0.0.1:$PG_PORT/fieldkit" \
FIELDKIT_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  $PY -m pytest -q -n 2 "$@"
