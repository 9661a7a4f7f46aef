"""Eight phones sending at once to the embedded configuration, as scripts/serve.sh runs it:
runserver (one thread per request) on a SpatiaLite file, processing in the server's
background thread. Every submission is stored and processed, none fails, no 500.

The server runs in its own process on its own database file (the test database lives in
memory, out of another process's reach), so this runs on the SpatiaLite pass only.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from tests import observation_builders as ob
from tests.xml_builders import raw_multipart

ROOT = Path(__file__).resolve().parents[1]
PHONES = 8
EACH = 24

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the embedded configuration (SpatiaLite) only"
)

SETUP = """
import os, re, sys
from io import StringIO
from django.core.management import call_command
from tests import observation_builders as ob
from tests.builders import make_area

call_command("migrate", verbosity=0)
area = make_area()
ob.publish(ob.patrol_form_md(), [area])
out = StringIO()
qr = os.path.join(os.environ["DATA_DIR"], "collector.png")
call_command("create_collector", "phone", "--area", str(area.pk), "--qr", qr, stdout=out)
sys.stdout.write(re.search(r"/key/[\\w-]+", out.getvalue()).group(0))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def patrol(phone: int, n: int) -> tuple[bytes, str]:
    """A short patrol with two observations, one with a photo, inside the test area."""
    lon, lat = 147.31 + phone * 0.01, -9.47 + n * 0.004
    track = ob.geotrace([(lon, lat), (lon + 0.004, lat + 0.002), (lon + 0.008, lat + 0.001)])
    sightings = [
        ob.observation_values(
            loc=ob.geopoint(lon + 0.002, lat + 0.001),
            when="2024-05-14T09:00:00.000+10:00",
            category="human_activity.weapons.snare",
            count="2",
            action="destroyed",
            photo="snare.jpg",
        ),
        ob.observation_values(
            loc=ob.geopoint(lon + 0.006, lat + 0.002),
            when="2024-05-14T11:00:00.000+10:00",
            category="animals.live",
            taxon="casuarius_casuarius",
        ),
    ]
    xml = ob.instance_xml(
        "fk_patrol",
        ob.patrol_values(patrol_no=f"P-{phone}-{n}", track=track),
        {"obs": sightings},
        instance_id=f"uuid:phone-{phone}-{n}",
    )
    return raw_multipart(xml, {"snare.jpg": b"\xff\xd8\xff\xe0" + os.urandom(20_000)})


def post(port: int, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "POST", path, body=body, headers={"Content-Type": content_type, "X-OpenRosa-Version": "1.0"}
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def count_by_state(database: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return dict(db.execute("SELECT state, count(*) FROM odk_forms_submission GROUP BY state").fetchall())
    finally:
        db.close()


def test_eight_phones_at_once_all_stored_and_processed(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        # Throwaway files: the test is about the database, not the disk.
        "ODK_FORMS_FSYNC": "false",
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "ODK_FORMS_BACKGROUND_PROCESSING"):
        env.pop(name, None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    setup = subprocess.run(
        [*manage, "shell", "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    path = setup.stdout.strip().splitlines()[-1] + "/submission"

    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "runserver did not start"
                assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
                time.sleep(0.2)

        answers: list[tuple[int, bytes]] = []
        lock = threading.Lock()

        def phone(number: int) -> None:
            for n in range(EACH):
                answer = post(port, path, *patrol(number, n))
                with lock:
                    answers.append(answer)

        phones = [threading.Thread(target=phone, args=(number,)) for number in range(PHONES)]
        for thread in phones:
            thread.start()
        for thread in phones:
            thread.join(timeout=180)

        refused = [(status, body[:300]) for status, body in answers if status != 201]
        assert len(answers) == PHONES * EACH
        assert refused == []

        database = tmp_path / "fieldkit.sqlite3"
        deadline = time.monotonic() + 60
        while (waiting := count_by_state(database)).keys() & {"received", "processing"}:
            assert time.monotonic() < deadline, f"not processed in time: {waiting}"
            time.sleep(0.3)
        assert waiting == {"processed": PHONES * EACH}
        db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
        try:
            patrols = db.execute("SELECT count(*) FROM observations_patrol").fetchone()[0]
            observations = db.execute("SELECT count(*) FROM observations_observation").fetchone()[0]
            photos = db.execute("SELECT count(*) FROM odk_forms_attachment").fetchone()[0]
        finally:
            db.close()
        assert (patrols, observations, photos) == (PHONES * EACH, 2 * PHONES * EACH, PHONES * EACH)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    assert b"Traceback" not in (tmp_path / "server.log").read_bytes()
