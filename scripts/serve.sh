#!/usr/bin/env bash
# Sets fieldkit up and serves it on its embedded default: SpatiaLite, Celery eager,
# demo data loaded, on http://127.0.0.1:8000 (PORT to change).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DEBUG="${DEBUG:-true}"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py load_demo
# Papua New Guinea's provinces under the areas on the overview, where the shared data lies
# beside the project (OCHA COD-AB 2018, for humanitarian use).
if [ -d ../shared/data/boundaries/png_adm1_ocha ]; then
  .venv/bin/python manage.py load_context_boundaries ../shared/data/boundaries/png_adm1_ocha \
    --source "OCHA COD-AB 2018 (humanitarian use)" > /dev/null
fi
# With DEBUG off pages link to the hashed names collectstatic writes, which WhiteNoise serves
# (with DEBUG on, runserver serves the static files where they lie).
case "${DEBUG,,}" in
  1|yes|true|on) ;;
  *) .venv/bin/python manage.py collectstatic --noinput -v 0 ;;
esac
echo "fieldkit: http://127.0.0.1:${PORT:-8000}/  (admin: /admin/, API: /api/v1/areas/)"
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
