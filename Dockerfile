# The fieldkit image: web (gunicorn), Celery worker and beat all run it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data MEDIA_ROOT=/data/media STATIC_ROOT=/app/static
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgdal32 libgeos-c1v5 libproj25 \
      libsqlite3-mod-spatialite openjdk-17-jre-headless curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN python manage.py collectstatic --noinput -v 0
RUN useradd --system --home /app fieldkit && mkdir -p /data && chown fieldkit /data
USER fieldkit
EXPOSE 8000
CMD ["gunicorn", "fieldkit.wsgi", "-c", "gunicorn.conf.py"]
