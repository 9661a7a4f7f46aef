#!/usr/bin/env bash
# Sets fieldkit up and serves it on its embedded default: SpatiaLite, Celery eager,
# demo data loaded, on http://127.0.0.1:8000 (PORT to change).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DEBUG="${DEBUG:-true}"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py load_demo
echo "fieldkit: http://127.0.0.1:${PORT:-8000}/  (admin: /admin/, API: /api/v1/areas/)"
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
