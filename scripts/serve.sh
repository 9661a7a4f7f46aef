#!/usr/bin/env bash
# Sets fieldkit up and serves it on its embedded default: SpatiaLite, Celery eager,
# demo data loaded, on http://127.0.0.1:8000 (PORT to change).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DEBUG="${DEBUG:-true}"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py load_demo
# With DEBUG off pages link to the hashed names collectstatic writes, which WhiteNoise serves
# (with DEBUG on, runserver serves the static files where they lie).
case "${DEBUG,,}" in
  1|yes|true|on) ;;
  *) .venv/bin/python manage.py collectstatic --noinput -v 0 ;;
esac
echo "fieldkit: http://127.0.0.1:${PORT:-8000}/  (admin: /admin/, API: /api/v1/areas/)"
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
