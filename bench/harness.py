"""What the database benchmarks share: a throwaway PostGIS cluster to run in, and Django set
up on a test database that is dropped afterwards. Imported by the scripts beside it (run as
`.venv/bin/python bench/<name>.py`, which puts this folder on the path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["bash", str(ROOT / "scripts" / "services.sh")]


def sh(*args: str, capture: bool = False) -> str:
    result = subprocess.run(args, check=True, text=True, capture_output=capture, cwd=ROOT)
    return result.stdout if capture else ""


def rerun_in_throwaway_postgis(script: str, args: list[str], first_port: int, database: str) -> None:
    """Start a PostGIS cluster on a free loopback port from `first_port`, run `script` again
    with `--inner` and `args` against it, then stop the cluster and remove its files."""
    work = Path(tempfile.mkdtemp(prefix="fieldkit-bench-"))
    port = int(sh(*SERVICES, "free-port", str(first_port), capture=True).strip())
    try:
        sh(*SERVICES, "start-postgis", str(work / "pg"), str(port))
        env = {**os.environ, "DATABASE_URL": f"postgis://postgres@127.0.0.1:{port}/{database}"}
        subprocess.run([sys.executable, script, "--inner", *args], check=True, env=env, cwd=ROOT)
    finally:
        sh(*SERVICES, "stop-postgis", str(work / "pg"))
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def test_database() -> Iterator[None]:
    """Django set up as a benchmark runs it (no broker, no fsync, quiet logs, its own media
    folder), on a test database (`test_<name>`) created for the block and dropped after."""
    media = tempfile.mkdtemp(prefix="fieldkit-bench-media-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "fieldkit.settings",
            "MEDIA_ROOT": media,
            "DATA_DIR": media,
            "STATIC_ROOT": os.path.join(media, "static"),
            "ODK_FORMS_FSYNC": "false",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": uuid.uuid4().hex,
        }
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    # WhiteNoise warns at start-up when the folder it serves is missing.
    os.makedirs(os.environ["STATIC_ROOT"], exist_ok=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        # The background threads (no broker) finish their work, and their periodic jobs
        # stop, before the database they read is dropped.
        from indicators import incremental
        from odk_forms import processing

        for worker in (processing.background_worker(), incremental.background_worker()):
            if worker.running:
                worker.wait_idle(timeout=120)
                worker.stop()
        teardown_databases(old, verbosity=0)
        shutil.rmtree(media, ignore_errors=True)
