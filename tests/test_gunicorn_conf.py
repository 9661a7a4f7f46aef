"""gunicorn.conf.py: the web server's size comes from the environment, with defaults that
leave more request slots than phones sending at once; the image and compose file use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def resolved(**env: str) -> dict[str, str]:
    """gunicorn's settings after reading gunicorn.conf.py in exactly this environment."""
    printed = subprocess.run(
        [GUNICORN, "-c", "gunicorn.conf.py", "--print-config", "fieldkit.wsgi"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in printed.splitlines())
    }


def test_defaults_are_threaded_workers_with_more_slots_than_phones():
    found = resolved()
    cores = len(os.sched_getaffinity(0))
    assert found["worker_class"] == "gthread"
    assert int(found["workers"]) == cores + 1
    assert int(found["threads"]) == 4
    # 8 phones sending at once on the smallest machine (1 core) still find a free thread.
    assert int(found["workers"]) * int(found["threads"]) >= 8


def test_empty_variables_from_compose_mean_the_defaults():
    assert resolved(GUNICORN_WORKERS="", GUNICORN_THREADS="") == resolved()


def test_workers_and_threads_come_from_the_environment():
    found = resolved(GUNICORN_WORKERS="6", GUNICORN_THREADS="3", GUNICORN_BIND="127.0.0.1:9000")
    assert (found["workers"], found["threads"], found["bind"]) == ("6", "3", "['127.0.0.1:9000']")


def test_the_image_and_the_compose_file_use_it():
    assert 'CMD ["gunicorn", "fieldkit.wsgi", "-c", "gunicorn.conf.py"]' in (ROOT / "Dockerfile").read_text()
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    assert "gunicorn fieldkit.wsgi -c gunicorn.conf.py" in " ".join(web["command"].split())
    assert {"GUNICORN_WORKERS", "GUNICORN_THREADS", "DATABASE_URL"} <= set(web["environment"])
