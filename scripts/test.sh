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

SERVICES="bash scripts/services.sh"
WORK=$(mktemp -d /tmp/fieldkit-test.XXXXXX)
cleanup() {
  $SERVICES stop-postgis "$WORK/pg"
  $SERVICES stop-redis "$WORK/redis"
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== pytest on SpatiaLite"
$PY -m pytest -q -n 2 "$@"

PG_PORT=$($SERVICES free-port "${FIELDKIT_TEST_PG_PORT:-55432}")
$SERVICES start-postgis "$WORK/pg" "$PG_PORT"
REDIS_PORT=$($SERVICES free-port "${FIELDKIT_TEST_REDIS_PORT:-56379}")
$SERVICES start-redis "$WORK/redis" "$REDIS_PORT"

echo "== pytest on PostGIS (port $PG_PORT, redis $REDIS_PORT)"
# The killed-worker test starts a real Celery worker and kills its child; it runs in a
# pytest process of its own, after the rest, so no state an earlier test left in the
# process can stand between the phone's request and that worker.
KILLED=tests/test_processing_worker_killed.py
DATABASE_URL="postgis://postgres@127.0.0.1:$PG_PORT/fieldkit" \
FIELDKIT_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  $PY -m pytest -q -n 2 --deselect "$KILLED" "$@"
echo "== pytest on PostGIS: $KILLED on its own"
DATABASE_URL="postgis://postgres@127.0.0.1:$PG_PORT/fieldkit" \
FIELDKIT_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  $PY -m pytest -q "$KILLED"
