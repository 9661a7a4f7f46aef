# The fieldkit image: web (gunicorn), Celery worker and beat all run it.

# The browser libraries, exactly as package-lock.json pins them. Neither Node.js nor
# node_modules reaches the image: only the static files collected from them below.
FROM node:26-bookworm-slim AS npm
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data MEDIA_ROOT=/data/media STATIC_ROOT=/app/static
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgdal32 libgeos-c1v5 libproj25 \
      libsqlite3-mod-spatialite openjdk-17-jre-headless curl \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

# Static files as WhiteNoise serves them with DEBUG off: content-hashed names, gzip and
# Brotli copies, the admin's, the apps' and the files of the browser libraries that
# fieldkit/vendor.py names.
FROM base AS static
COPY --from=npm /app/node_modules node_modules
RUN python manage.py collectstatic --noinput -v 0

FROM base
COPY --from=static /app/static /app/static
RUN useradd --system --home /app fieldkit && mkdir -p /data && chown fieldkit /data
USER fieldkit
EXPOSE 8000
CMD ["gunicorn", "fieldkit.wsgi", "-c", "gunicorn.conf.py"]
