"""System checks: a bad configuration fails loudly at start-up, not at the first request."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

SPATIAL_ENGINES = {
    "django.contrib.gis.db.backends.postgis",
    "django.contrib.gis.db.backends.spatialite",
    "fieldkit.db.spatialite",
}


@register(Tags.database, deploy=False)
def check_database(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine not in SPATIAL_ENGINES:
        errors.append(
            Error(
                f"DATABASES['default'] uses {engine}, which has no spatial support.",
                hint="Set DATABASE_URL to a postgis:// URL, or unset it to use SpatiaLite.",
                id="fieldkit.E001",
            )
        )
    if engine.endswith("spatialite"):
        import sqlite3

        connection = sqlite3.connect(":memory:")
        try:
            connection.enable_load_extension(True)
            connection.load_extension(settings.SPATIALITE_LIBRARY_PATH)
        except AttributeError:
            errors.append(
                Error(
                    "This Python's sqlite3 cannot load extensions, so SpatiaLite is unusable.",
                    hint="Create the virtualenv from Debian's /usr/bin/python3 (scripts/setup.sh).",
                    id="fieldkit.E002",
                )
            )
        except sqlite3.OperationalError as exc:
            errors.append(
                Error(
                    f"SpatiaLite could not be loaded: {exc}",
                    hint="Install libsqlite3-mod-spatialite or set SPATIALITE_LIBRARY_PATH.",
                    id="fieldkit.E003",
                )
            )
        finally:
            connection.close()
    return errors


@register()
def check_broker(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    url = settings.CELERY_BROKER_URL
    if url and urlparse(url).scheme not in ("redis", "rediss", "memory"):
        return [
            Error(
                f"CELERY_BROKER_URL has an unsupported scheme: {url!r}.",
                hint="Use redis://host:port/db, or unset it to run tasks eagerly.",
                id="fieldkit.E004",
            )
        ]
    return []


@register()
def check_storage(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Raw submissions are written here before anything else happens: if that can't
    work, refuse to start rather than fail on a ranger's upload."""
    errors = []
    for name in ("DATA_DIR", "MEDIA_ROOT"):
        path = Path(getattr(settings, name))
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            errors.append(Error(f"{name} ({path}) is not writable: {exc.strerror}.", id="fieldkit.E005"))
    return errors


@register(deploy=True)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if settings.SECRET_KEY == "insecure-development-key":  # noqa: S105
        return [
            Warning(
                "SECRET_KEY is the development default.",
                hint="Set SECRET_KEY or SECRET_KEY_FILE in production.",
                id="fieldkit.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_https(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """HTTPS settings that contradict each other make a site that cannot be reached, or
    hand phones URLs they cannot submit to."""
    warnings = []
    if settings.SECURE_SSL_REDIRECT and not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        warnings.append(
            Warning(
                "SECURE_SSL_REDIRECT is on but no proxy header says which requests came over HTTPS.",
                hint=(
                    "Behind a TLS-terminating proxy that overwrites X-Forwarded-Proto, set "
                    "TRUST_X_FORWARDED_PROTO=true; without it every request is redirected again "
                    "and again. Serving plain HTTP on purpose: set SECURE_SSL_REDIRECT=false."
                ),
                id="fieldkit.W002",
            )
        )
    if settings.SECURE_SSL_REDIRECT and urlparse(settings.SITE_URL).scheme != "https":
        warnings.append(
            Warning(
                f"SITE_URL ({settings.SITE_URL}) is not https:// but plain HTTP is redirected.",
                hint=(
                    "Phones are handed SITE_URL (Collect settings codes, form download links), so "
                    "each of their requests would go out over plain HTTP before being redirected: "
                    "set SITE_URL to the public https:// address."
                ),
                id="fieldkit.W003",
            )
        )
    return warnings


@register(deploy=False)
def check_enketo(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Web forms configured half-way would show an error on every page that lists forms."""
    if not settings.ENKETO_URL:
        return []
    problems: list[Error | Warning] = []
    for name in ("ENKETO_URL", "ENKETO_PUBLIC_URL"):
        value = getattr(settings, name)
        if urlparse(value).scheme not in ("http", "https"):
            problems.append(
                Error(
                    f"{name} ({value}) is not an http(s) address.",
                    hint="E.g. ENKETO_URL=http://enketo:8005/- and ENKETO_PUBLIC_URL=https://<host>/-.",
                    id="fieldkit.E070",
                )
            )
    if not settings.ENKETO_API_KEY:
        problems.append(
            Warning(
                "ENKETO_URL is set but ENKETO_API_KEY is empty: Enketo refuses every call.",
                hint="Set ENKETO_API_KEY (or ENKETO_API_KEY_FILE) to Enketo's linked server API key.",
                id="fieldkit.W070",
            )
        )
    return problems


@register()
def check_event_subscribers(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Every dotted path of FIELDKIT_EVENT_SUBSCRIBERS imports to a callable (fieldkit.events):
    a typo would otherwise be found only by the first change, and logged, not raised."""
    from django.utils.module_loading import import_string

    found: list[Error] = []
    for path in settings.FIELDKIT_EVENT_SUBSCRIBERS:
        try:
            subscriber = import_string(path)
        except ImportError as exc:
            found.append(
                Error(
                    f"FIELDKIT_EVENT_SUBSCRIBERS names {path!r}, which cannot be imported: {exc}",
                    hint="Give the dotted path of a callable (module.function).",
                    id="fieldkit.E088",
                )
            )
            continue
        if not callable(subscriber):
            found.append(
                Error(
                    f"FIELDKIT_EVENT_SUBSCRIBERS names {path!r}, which is not callable.", id="fieldkit.E089"
                )
            )
    return found
