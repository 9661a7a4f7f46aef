"""OpenRosa ingest benchmark: a real server receiving standard patrol submissions, as ODK
Collect sends them, until every one is stored and processed into field records.

    .venv/bin/python bench/openrosa_ingest.py [--db postgis|spatialite] [--server gunicorn|runserver]
        [--clients 2 8] [--n 1000] [--mode eager|celery] [--workers W --threads T]

Set-up, not measured: a throwaway database (a PostGIS cluster on a free loopback port, or a
SpatiaLite file), the five demo areas with their zones, the species list, the six standard
forms, a collector of every area with a token URL, and the submissions: patrols from the
demo generator (portal.demo), each with its days, a GPS track per day and the
observations made on the way, plus one 20 KB photo. Processing them clips every track to
areas and zones and places every observation by point-in-polygon: the spatial work is in
the figures.

Servers: gunicorn with gunicorn.conf.py (workers and threads from --workers/--threads, else
its defaults), or `manage.py runserver` with DEBUG on as scripts/serve.sh starts it.
Processing runs as the server runs it (--mode eager: in the web server, no broker) or in a
Celery worker (--mode celery, with a Redis it starts).

Then, for each number of clients, --form-list GETs of the collector's formList (the rate,
p50/p95 and server CPU per request), as Collect refreshes its list of forms.

Measured for each number of clients, in turn on the same server: N submissions sent by that
many keep-alive clients, each waiting for its answer before sending the next; then the
benchmark waits until none is left waiting for processing. Figures: submissions answered
per second, p50/p95 answer time, the time until all were processed, server CPU per
submission and the stored/processed/failed counts. CPU is that of every process under
the server, PostgreSQL's postmaster and the Celery worker, read from /proc/<pid>/stat from
the start of the load until processing is done: utime+stime of the live ones and
cutime+cstime, the CPU of children that exited (database backends of closed connections,
recycled workers). The benchmark's own database connection is left out.

It fails (exit status 1) unless every submission was answered 201, stored with its photo
and processed, none failed. Then it probes a re-sent and a changed duplicate, and how much
a worker's memory grows while receiving one large upload.

Only fieldkit's own figures are printed: a comparison with another server means measuring
both in the same run, on the same machine, with the same submissions.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
SERVICES = ["bash", str(ROOT / "scripts" / "services.sh")]
MAX_N = 2000  # load stays bounded on a shared machine
PHOTO_BYTES = 20_000
WAITING = ("received", "processing")


# --- Processes -------------------------------------------------------------------------------


def sh(*args: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    result = subprocess.run(args, env=env, check=True, text=True, capture_output=capture, cwd=ROOT)
    return result.stdout if capture else ""


def free_port(start: int) -> int:
    return int(sh(*SERVICES, "free-port", str(start), capture=True).strip())


def wait_http(port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(f"the server exited with status {proc.returncode} before answering:\n{tail}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer /healthz; its log: {log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session, with everything it started."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def gunicorn_sizes(env: dict[str, str]) -> str:
    """Workers and threads as gunicorn.conf.py resolves them in this environment."""
    printed = sh(
        str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
        "--print-config", "fieldkit.wsgi", env=env, capture=True,
    )  # fmt: skip
    values = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in printed.splitlines())
    )
    return f"{values['workers']} workers x {values['threads']} threads"


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def process_tree(roots: list[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, stack = [], list(roots)
    while stack:
        pid = stack.pop()
        if pid not in tree:
            tree.append(pid)
            stack.extend(children.get(pid, []))
    return tree


def cpu_ticks(pids: list[int]) -> int:
    """utime+stime+cutime+cstime of each process: its own CPU and that of its children that
    exited and were reaped."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += sum(int(value) for value in fields[11:15])
    return total


def own_ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def rss_kb(pid: int, name: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- The database, seen from outside the server -------------------------------------------------


class Database:
    """The benchmark's own connection: counts submissions by state. Its PostgreSQL backend
    is subtracted from the server's CPU."""

    def __init__(self, url: str | None, sqlite_path: Path | None) -> None:
        self.backend_pid: int | None = None
        if url:
            import psycopg

            self.conn: Any = psycopg.connect(url.replace("postgis://", "postgresql://"), autocommit=True)
            self.insert = "INSERT INTO bench_ids VALUES (%s)"
            self.backend_pid = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            self.conn.execute("CREATE TEMP TABLE bench_ids (instance_id text PRIMARY KEY)")
        else:
            self.conn = sqlite3.connect(str(sqlite_path), timeout=60, isolation_level=None)
            self.insert = "INSERT INTO bench_ids VALUES (?)"
            self.conn.execute("CREATE TEMP TABLE bench_ids (instance_id text PRIMARY KEY)")

    def select(self, instance_ids: list[str]) -> None:
        cursor = self.conn.cursor()
        cursor.execute("DELETE FROM bench_ids")
        cursor.executemany(self.insert, [(i,) for i in instance_ids])

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.execute(sql)
        return list(cursor.fetchall())

    def states(self) -> dict[str, int]:
        """Submissions of the selected instance IDs, by processing state."""
        return dict(
            self._rows(
                "SELECT s.state, count(*) FROM odk_forms_submission s "
                "JOIN bench_ids b ON b.instance_id = s.instance_id GROUP BY s.state"
            )
        )

    def attachments(self) -> int:
        return int(
            self._rows(
                "SELECT count(*) FROM odk_forms_attachment a JOIN odk_forms_submission s "
                "ON s.id = a.submission_id JOIN bench_ids b ON b.instance_id = s.instance_id"
            )[0][0]
        )

    def errors(self) -> list[str]:
        """A few processing errors, to show what went wrong."""
        return [
            row[0]
            for row in self._rows(
                "SELECT s.processing_error FROM odk_forms_submission s JOIN bench_ids b "
                "ON b.instance_id = s.instance_id WHERE s.state = 'failed' LIMIT 3"
            )
        ]

    def own_ticks(self) -> int:
        return own_ticks(self.backend_pid) if self.backend_pid else 0

    def close(self) -> None:
        self.conn.close()


# --- Submissions ----------------------------------------------------------------------------------


@dataclass
class Submission:
    instance_id: str
    xml: bytes
    photo: str
    body: bytes
    content_type: str


def multipart(xml: bytes, photo_name: str, photo: bytes) -> tuple[bytes, str]:
    boundary = "----fieldkit-bench-" + uuid.uuid4().hex
    parts = [
        ("xml_submission_file", "submission.xml", "text/xml", xml),
        (photo_name, photo_name, "image/jpeg", photo),
    ]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n".encode()
        + payload
        + b"\r\n"
        for name, filename, ctype, payload in parts
    )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def photo_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(PHOTO_BYTES - 6) + b"\xff\xd9"


def load_submissions(work: Path) -> list[Submission]:
    manifest = json.loads((work / "submissions.json").read_text())
    loaded = []
    for item in manifest:
        xml = (work / "submissions" / item["file"]).read_bytes()
        body, ctype = multipart(xml, item["photo"], photo_bytes())
        loaded.append(Submission(item["instance_id"], xml, item["photo"], body, ctype))
    return loaded


# --- Load ---------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    wall: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.statuses.get(201, 0)


def post(conn: http.client.HTTPConnection, path: str, submission: Submission) -> tuple[int, bytes]:
    headers = {
        "Content-Type": submission.content_type,
        "X-OpenRosa-Version": "1.0",
        "Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
    }
    conn.request("POST", path, body=submission.body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def send(port: int, path: str, submissions: list[Submission], clients: int) -> LoadResult:
    """Each client sends the next submission once it has the answer to its last, on one
    keep-alive connection, as Collect empties its queue."""
    queue: Iterator[Submission] = iter(submissions)
    lock = threading.Lock()
    result = LoadResult(0.0)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                submission = next(queue, None)
            if submission is None:
                conn.close()
                return
            started = time.perf_counter()
            try:
                status, body = post(conn, path, submission)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                status, body = -1, repr(exc).encode()
            elapsed = time.perf_counter() - started
            with lock:
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status != 201 and len(result.errors) < 5:
                    result.errors.append(f"{status} {body[:300]!r}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall = time.perf_counter() - started
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def wait_processed(db: Database, expected: int, seconds: float) -> dict[str, int]:
    deadline = time.time() + seconds
    while True:
        states = db.states()
        waiting = sum(states.get(state, 0) for state in WAITING)
        if (sum(states.values()) >= expected and not waiting) or time.time() > deadline:
            return states
        time.sleep(0.25)


# --- One case -------------------------------------------------------------------------------------


@dataclass
class Case:
    clients: int
    n: int
    load: LoadResult
    drained_s: float
    cpu_ms: dict[str, float]
    states: dict[str, int]
    attachments: int
    errors: list[str]

    @property
    def failures(self) -> list[str]:
        found = []
        if self.load.ok != self.n:
            found.append(f"{self.n - self.load.ok} of {self.n} not answered 201: {self.load.errors}")
        stored = sum(self.states.values())
        if stored != self.n:
            found.append(f"{stored} of {self.n} stored")
        if self.attachments != self.n:
            found.append(f"{self.attachments} of {self.n} photos stored")
        if self.states.get("processed", 0) != self.n:
            found.append(f"{self.states.get('processed', 0)} of {self.n} processed ({self.states})")
        if self.states.get("failed"):
            found.append(f"{self.states['failed']} failed processing, e.g. {self.errors}")
        return found


def run_case(
    port: int, path: str, submissions: list[Submission], clients: int, db: Database,
    cpu_roots: dict[str, int], drain_seconds: float,
) -> Case:  # fmt: skip
    db.select([s.instance_id for s in submissions])
    hz = os.sysconf("SC_CLK_TCK")
    trees = {name: process_tree([pid]) for name, pid in cpu_roots.items()}
    before = {name: cpu_ticks(pids) for name, pids in trees.items()}
    db_before = db.own_ticks()
    started = time.perf_counter()
    load = send(port, path, submissions, clients)
    states = wait_processed(db, len(submissions), drain_seconds)
    drained = time.perf_counter() - started
    # Processes started during the run (new backends, workers) count from zero; exited ones
    # are in their parents' cutime/cstime.
    after = {name: cpu_ticks(process_tree([pid])) for name, pid in cpu_roots.items()}
    own = db.own_ticks() - db_before
    cpu_ms = {name: 1000 * (after[name] - before[name]) / hz for name in cpu_roots}
    if "postgresql" in cpu_ms:
        cpu_ms["postgresql"] -= 1000 * own / hz
    return Case(
        clients, len(submissions), load, drained, cpu_ms, states, db.attachments(),
        db.errors() if states.get("failed") else [],
    )  # fmt: skip


def report(case: Case) -> None:
    lat = case.load.latencies
    n = case.n
    total_cpu = sum(case.cpu_ms.values())
    parts = ", ".join(f"{name} {ms / n:.1f}" for name, ms in case.cpu_ms.items())
    print(
        f"  {case.clients} clients: {case.load.ok / case.load.wall:.1f} submissions/s answered "
        f"({case.load.wall:.1f} s); answer p50 {1000 * percentile(lat, 50):.0f} ms, "
        f"p95 {1000 * percentile(lat, 95):.0f} ms, mean {1000 * statistics.mean(lat):.0f} ms"
    )
    print(
        f"    all processed after {case.drained_s:.1f} s: {n / case.drained_s:.1f} submissions/s "
        f"end to end, {1000 * case.drained_s / n:.1f} ms each"
    )
    print(f"    server CPU {total_cpu / n:.1f} ms per submission ({parts})")
    print(
        f"    stored {sum(case.states.values())}/{n} (photos {case.attachments}), "
        f"processed {case.states.get('processed', 0)}, failed {case.states.get('failed', 0)}, "
        f"states {case.states}, answers {dict(sorted(case.load.statuses.items()))}"
    )
    for failure in case.failures:
        print(f"    FAILED: {failure}")


# --- Form list --------------------------------------------------------------------------------------


def form_list_case(port: int, path: str, n: int, clients: int, cpu_roots: dict[str, int]) -> str:
    """`n` formList GETs by `clients` keep-alive clients, as Collect refreshes its forms: the
    rate, p50/p95 and the server CPU per request (same accounting as the submissions)."""
    queue = iter(range(n))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"X-OpenRosa-Version": "1.0"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if next(queue, None) is None:
                    conn.close()
                    return
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

    hz = os.sysconf("SC_CLK_TCK")
    before = {name: cpu_ticks(process_tree([pid])) for name, pid in cpu_roots.items()}
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    after = {name: cpu_ticks(process_tree([pid])) for name, pid in cpu_roots.items()}
    cpu_ms = {name: 1000 * (after[name] - before[name]) / hz for name in cpu_roots}
    parts = ", ".join(f"{name} {ms / n:.2f}" for name, ms in cpu_ms.items())
    return (
        f"{n} GETs by {clients} clients: {n / wall:.0f}/s, p50 {1000 * percentile(latencies, 50):.1f} ms, "
        f"p95 {1000 * percentile(latencies, 95):.1f} ms; server CPU {sum(cpu_ms.values()) / n:.2f} ms "
        f"per request ({parts}); answers {dict(sorted(statuses.items()))}"
    )


# --- Probes ---------------------------------------------------------------------------------------


def probe_duplicates(port: int, path: str, first: Submission) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    identical, _ = post(conn, path, first)
    # Same instanceID, other content.
    xml = first.xml.replace(b"<leader>", b"<leader>X", 1)
    body, content_type = multipart(xml, first.photo, photo_bytes())
    changed, _ = post(conn, path, Submission(first.instance_id, xml, first.photo, body, content_type))
    return identical, changed


def probe_large_upload(
    port: int, path: str, xml: bytes, photo_name: str, size: int, workers: list[int]
) -> str:
    """POST one submission whose photo is `size` bytes, streamed; the peak growth of the
    receiving worker's resident memory (an upper bound: peak during against before)."""
    boundary = "----fieldkit-large-" + uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
        f'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n'
    ).encode() + xml + (
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="{photo_name}"; '
        f'filename="{photo_name}"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()  # fmt: skip
    tail = f"\r\n--{boundary}--\r\n".encode()
    before = {pid: rss_kb(pid) for pid in workers}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.putheader("X-OpenRosa-Version", "1.0")
    conn.endheaders()
    conn.send(head)
    chunk = os.urandom(1 << 20)
    sent = 0
    while sent < size:
        piece = chunk[: min(len(chunk), size - sent)]
        conn.send(piece)
        sent += len(piece)
    conn.send(tail)
    status = conn.getresponse().status
    seconds = time.perf_counter() - started
    growth = max((rss_kb(pid, "VmHWM") - before[pid] for pid in workers if before[pid]), default=0) / 1024
    return f"status {status} in {seconds:.1f} s, peak RSS growth of a worker {growth:.1f} MB"


# --- Set-up inside Django ----------------------------------------------------------------------------


def prepare(work: Path, count: int, seed: int) -> None:
    """Run with the server's environment: areas, forms, a collector and `count` patrol
    submissions written to work/submissions/."""
    import math
    import re

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldkit.settings")
    import django

    django.setup()
    from accounts import services
    from portal import demo
    from protected_areas.demo import load_demo_areas
    from protected_areas.models import ProtectedArea

    load_demo_areas()
    demo.load_demo_taxa()
    areas = list(ProtectedArea.objects.filter(wdpa_id__in=demo.PROFILES).order_by("wdpa_id"))
    versions = demo.publish_standard_forms(areas, validate=False)
    user, token = services.create_collector("bench-collector", [a.id for a in areas])
    server_url = services.collect_settings(user, token, "http://bench")["general"]["server_url"]

    # The demo sends about 216 patrols a year at scale 1.
    scale = max(1.0, math.ceil(count / 216))
    out = work / "submissions"
    out.mkdir()
    manifest: list[dict[str, str]] = []
    year = 2024
    while len(manifest) < count:
        for stem, xml in demo.generate_submissions(areas, versions, year, seed=seed + year, scale=scale):
            if stem != "patrol":
                continue
            k = len(manifest)
            photo = f"photo-{k}.jpg"
            # The first observation's photo: the form's own question, so the photo is
            # linked to its record as Collect sends it.
            xml, replaced = re.subn(rb"<photo ?/>", f"<photo>{photo}</photo>".encode(), xml, count=1)
            if not replaced:
                raise SystemExit("the patrol form has no photo question any more")
            instance_id = re.search(rb"<instanceID>([^<]+)</instanceID>", xml).group(1).decode()  # type: ignore[union-attr]
            (out / f"{k}.xml").write_bytes(xml)
            manifest.append({"file": f"{k}.xml", "photo": photo, "instance_id": instance_id})
            if len(manifest) == count:
                break
        year -= 1
    (work / "submissions.json").write_text(json.dumps(manifest))
    (work / "collector.json").write_text(json.dumps({"path": server_url.removeprefix("http://bench")}))


# --- Main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgis", "spatialite"], default="postgis")
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    parser.add_argument("--mode", choices=["eager", "celery"], default="eager")
    parser.add_argument(
        "--clients", type=int, nargs="+", default=[2, 8], help="concurrent clients, one case each"
    )
    parser.add_argument("--n", type=int, default=1000, help=f"submissions per case (at most {MAX_N})")
    parser.add_argument("--warmup", type=int, default=20, help="submissions sent before measuring")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument(
        "--threads", type=int, help="threads per gunicorn worker (default: gunicorn.conf.py's)"
    )
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--drain-seconds", type=float, default=600, help="how long to wait for processing")
    parser.add_argument("--large-mb", type=int, default=95, help="size of the large-upload probe (0: skip)")
    parser.add_argument(
        "--form-list", type=int, default=1000, help="formList GETs per number of clients (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--prepare", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(Path(args.prepare), args.count, args.seed)
        return
    if not 0 < args.n <= MAX_N:
        parser.error(f"--n must be between 1 and {MAX_N}")
    sys.exit(run(args))


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="fieldkit-bench-"))
    pg_dir, redis_dir = work / "pg", work / "redis"
    procs: list[subprocess.Popen[bytes]] = []
    cleanups: list[Callable[[], object]] = []
    db: Database | None = None
    try:
        env = {
            **os.environ,
            "DATA_DIR": str(work / "data"),
            "MEDIA_ROOT": str(work / "data" / "media"),
            "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
            "LOG_LEVEL": "WARNING",
            "DEBUG": "true" if args.server == "runserver" else "false",
            # Plain HTTP on loopback: the operator's choice for a server inside a network.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
        }
        for name in ("CELERY_BROKER_URL", "DATABASE_URL"):
            env.pop(name, None)
        (work / "data").mkdir()
        database_url = None
        if args.db == "postgis":
            pg_port = free_port(55500)
            sh(*SERVICES, "start-postgis", str(pg_dir), str(pg_port))
            cleanups.append(lambda: sh(*SERVICES, "stop-postgis", str(pg_dir)))
            sh("su", "postgres", "-c", f"psql -h 127.0.0.1 -p {pg_port} -qc 'create database fieldkit_bench'")
            database_url = f"postgis://postgres@127.0.0.1:{pg_port}/fieldkit_bench"
            env["DATABASE_URL"] = database_url
        if args.mode == "celery":
            redis_port = free_port(56500)
            sh(*SERVICES, "start-redis", str(redis_dir), str(redis_port))
            cleanups.append(lambda: sh(*SERVICES, "stop-redis", str(redis_dir)))
            env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{redis_port}/0"

        started = time.perf_counter()
        sh(PY, "manage.py", "migrate", "-v", "0", env=env)
        count = args.warmup + args.n * len(args.clients) + 2
        sh(PY, __file__, "--prepare", str(work), "--count", str(count), "--seed", str(args.seed), env=env)
        path = json.loads((work / "collector.json").read_text())["path"] + "/submission"
        submissions = load_submissions(work)
        print(
            f"set-up: {len(submissions)} patrol submissions prepared in {time.perf_counter() - started:.0f} s"
        )

        port = free_port(58000)
        env["SITE_URL"] = f"http://127.0.0.1:{port}"
        if args.server == "gunicorn":
            if args.workers:
                env["GUNICORN_WORKERS"] = str(args.workers)
            if args.threads:
                env["GUNICORN_THREADS"] = str(args.threads)
            command = [
                str(ROOT / ".venv" / "bin" / "gunicorn"), "fieldkit.wsgi",
                "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            ]  # fmt: skip
        else:  # as scripts/serve.sh runs it, reloader included
            command = [PY, "manage.py", "runserver", f"127.0.0.1:{port}"]
        # Servers log to files: a failure prints their last lines.
        logs = {"server": work / "server.log", "celery": work / "celery.log"}
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True,
            stdout=logs["server"].open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        procs.append(server)
        cpu_roots = {"server": server.pid}
        if args.db == "postgis":
            cpu_roots["postgresql"] = int((pg_dir / "postmaster.pid").read_text().split()[0])
        if args.mode == "celery":
            celery = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "celery"), "-A", "fieldkit", "worker",
                 "--concurrency", str(args.celery_concurrency), "--loglevel", "warning"],
                cwd=ROOT, env=env, start_new_session=True,
                stdout=logs["celery"].open("wb"), stderr=subprocess.STDOUT,
            )  # fmt: skip
            procs.append(celery)
            cpu_roots["celery"] = celery.pid
        wait_http(port, server, logs["server"])

        db = Database(database_url, None if database_url else work / "data" / "fieldkit.sqlite3")
        warmup, submissions = submissions[: args.warmup], submissions[args.warmup :]
        if warmup:
            db.select([s.instance_id for s in warmup])
            send(port, path, warmup, max(args.clients))
            wait_processed(db, len(warmup), args.drain_seconds)

        server_label = (
            f"gunicorn ({gunicorn_sizes(env)}, gunicorn.conf.py)"
            if args.server == "gunicorn"
            else "runserver (DEBUG on, as scripts/serve.sh)"
        )
        print(f"command: {shlex.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])}")
        print(
            f"{args.db}, {server_label}, processing {args.mode}; {args.n} patrol submissions per case "
            f"(days, GPS tracks, observations, one {PHOTO_BYTES // 1000} KB photo each); "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        failed = False
        for clients in args.clients:
            batch, submissions = submissions[: args.n], submissions[args.n :]
            case = run_case(port, path, batch, clients, db, cpu_roots, args.drain_seconds)
            report(case)
            failed = failed or bool(case.failures)

        if args.form_list:
            form_list_path = path.removesuffix("/submission") + "/formList"
            form_list_case(port, form_list_path, 20, 1, cpu_roots)  # warm-up
            for clients in args.clients:
                outcome = form_list_case(port, form_list_path, args.form_list, clients, cpu_roots)
                print(f"form list: {outcome}")

        resident = [rss_kb(pid) / 1024 for pid in process_tree([server.pid])]
        print(
            f"server memory: {len(resident)} processes, {sum(resident):.0f} MB resident "
            f"(largest {max(resident):.0f} MB)"
        )
        identical, changed = probe_duplicates(port, path, batch[0])
        print(f"duplicates: identical resend -> {identical}, same instanceID with other content -> {changed}")
        if identical not in (200, 201, 202) or changed != 409:
            print("    FAILED: a duplicate was not answered as expected (2xx, then 409)")
            failed = True
        if args.large_mb:
            spare = submissions[0]
            workers = [pid for pid in process_tree([server.pid]) if pid != server.pid] or [server.pid]
            outcome = probe_large_upload(
                port, path, spare.xml, spare.photo, args.large_mb * 1_000_000, workers
            )
            print(f"large upload ({args.large_mb} MB): {outcome}")
        if failed:
            for name, log in logs.items():
                if log.exists():
                    tail = log.read_text(errors="replace").splitlines()[-15:]
                    print(f"last lines of the {name} log ({log}):", *tail, sep="\n    ")
            return 1
        return 0
    finally:
        if db is not None:
            db.close()
        for proc in procs:
            stop(proc)
        for cleanup in reversed(cleanups):
            cleanup()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}")


if __name__ == "__main__":
    main()
