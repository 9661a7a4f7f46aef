#!/usr/bin/env bash
# Installs everything fieldkit needs on Debian 12, as root: apt packages, a virtualenv on
# Debian's Python (its sqlite3 loads SpatiaLite), the Python packages, and the browser
# libraries from package-lock.json (npm ci). Quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-venv python3-dev gcc
  gdal-bin libgdal32 libgeos-c1v5 libproj25 libsqlite3-mod-spatialite
  postgresql-15 postgresql-15-postgis-3 redis-server docker-compose
  # Browser tests (headless Chromium) and checks of generated PDFs (pdftoppm, pdftotext).
  chromium chromium-driver poppler-utils
  # WeasyPrint (case files' PDF summaries): Pango and a font.
  libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# pyxform's ODK Validate runs on Java; any JRE from 11 on does.
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
# npm installs the browser libraries; any Node.js from Debian 12's on does.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages"
  .venv/bin/pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# The browser libraries, exactly as package-lock.json pins them. Only the files named in
# fieldkit/vendor.py are ever served from node_modules.
stamp=node_modules/.fieldkit-npm.sha256
want=$(cat package.json package-lock.json .npmrc | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing browser libraries (npm ci)"
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" > "$stamp"
fi
mkdir -p var
