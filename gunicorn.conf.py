"""gunicorn settings for fieldkit's web server, read from the environment.

    gunicorn fieldkit.wsgi -c gunicorn.conf.py

A phone holds a request slot (a worker thread) for as long as its upload takes, which over a
rural mobile link is seconds, then while the files are written, synced and committed; the
CPU is idle during those waits. With fewer slots than phones sending at once, phones queue
behind each other for nothing (2 workers x 2 threads made 8 phones wait). So there are
more slots than phones expected at once, as threads, which cost little memory; and one
process more than there are cores, so that Python work (mapping, under the GIL) uses every
core. Each process holds Django, GDAL and PROJ: about 200 MB.
"""

from __future__ import annotations

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _env(name: str, default: str) -> str:
    # docker-compose passes an unset variable on as an empty string.
    return os.getenv(name) or default


workers = int(_env("GUNICORN_WORKERS", str(_cores() + 1)))
worker_class = "gthread"
threads = int(_env("GUNICORN_THREADS", "4"))
bind = _env("GUNICORN_BIND", "0.0.0.0:8000")
# A large upload over a slow link takes a while; the timeout only kills a stuck worker.
timeout = int(_env("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Collect reuses its connection for the next submission in its queue.
keepalive = int(_env("GUNICORN_KEEPALIVE", "30"))
# The proxy in front logs requests; gunicorn's access log would only repeat them.
accesslog = os.getenv("GUNICORN_ACCESS_LOG") or None
# When it is on: no header values (Enketo's sign-in cookie holds a password in clear), no
# Basic user name (%(u)s), no query string (`?st=` tokens): the path, not the request line.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = _env("GUNICORN_LOG_LEVEL", "info")
