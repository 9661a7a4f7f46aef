"""OpenRosa ingest benchmark: a real server (gunicorn on PostGIS) driven by the shared
load client, as ODK Collect would drive it.

    .venv/bin/python bench/openrosa_ingest.py [--n 2000] [--concurrency 2] [--mode eager|celery]

It starts a throwaway PostGIS cluster (and Redis with --mode celery) on free loopback
ports, migrates, imports one protected area around the load client's points, publishes the
bench form, creates a collector with a token URL, starts gunicorn, then runs
../shared/tools/openrosa_load.py (N submissions with a 20 KB photo each, 2 keep-alive
clients) with the server's process tree (gunicorn, PostgreSQL, Celery) counted for CPU.
Afterwards it checks every submission is stored and processed, then posts one submission
with a ~95 MB attachment and reports how much the receiving worker's memory grew.

Figures printed: submissions/s, p50/p95 latency, server CPU ms per submission, the ratio
to ODK Central's rate measured on this machine (45–81/s), and the large-upload RSS growth.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PY = str(ROOT / ".venv" / "bin" / "python")
SERVICES = ["bash", str(ROOT / "scripts" / "services.sh")]
CENTRAL_RATE = (45.0, 81.0)  # submissions/s, ODK Central v2026.2.2 on this machine (design.md §5)

# The load client scatters points over lat -1.5..-0.5, lon 36.5..37.5.
BENCH_AREA = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[36.4, -1.6], [37.6, -1.6], [37.6, -0.4], [36.4, -0.4], [36.4, -1.6]]],
            },
            "properties": {"WDPAID": 990001, "WDPA_PID": "990001", "NAME": "Bench Area", "ISO3": "KEN"},
        }
    ],
}


def sh(*args: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    result = subprocess.run(args, env=env, check=True, text=True, capture_output=capture, cwd=ROOT)
    return result.stdout if capture else ""


def free_port(start: int) -> int:
    return int(sh(*SERVICES, "free-port", str(start), capture=True).strip())


def wait_http(port: int, path: str = "/healthz", seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer {path}")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == master:
                pids.append(int(entry))
    return pids


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def post_large(port: int, path: str, size: int) -> tuple[int, float]:
    """POST one submission whose attachment is `size` bytes, streamed from a generator."""
    boundary = "----large" + uuid.uuid4().hex
    instance = f"uuid:{uuid.uuid4()}"
    xml = (
        '<?xml version="1.0"?><data id="bench_survey" version="1"><name>Large</name>'
        f"<photo>big.jpg</photo><meta><instanceID>{instance}</instanceID></meta></data>"
    ).encode()
    head = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
            f'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n'
        ).encode()
        + xml
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="big.jpg"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = os.urandom(1 << 20)

    def body():  # type: ignore[no-untyped-def]
        yield head
        sent = 0
        while sent < size:
            piece = chunk[: min(len(chunk), size - sent)]
            sent += len(piece)
            yield piece
        yield tail

    length = len(head) + size + len(tail)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.putrequest("POST", path)
    for name, value in (
        ("Content-Type", f"multipart/form-data; boundary={boundary}"),
        ("Content-Length", str(length)),
        ("X-OpenRosa-Version", "1.0"),
    ):
        conn.putheader(name, value)
    conn.endheaders()
    for piece in body():
        conn.send(piece)
    status = conn.getresponse().status
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--mode", choices=["eager", "celery"], default="eager")
    parser.add_argument("--large-mb", type=int, default=95, help="size of the large-upload probe (0: skip)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fieldkit-bench-"))
    pg_dir, redis_dir = work / "pg", work / "redis"
    pg_port = free_port(55500)
    procs: list[subprocess.Popen] = []
    try:
        sh(*SERVICES, "start-postgis", str(pg_dir), str(pg_port))
        env = {
            **os.environ,
            "DATABASE_URL": f"postgis://postgres@127.0.0.1:{pg_port}/fieldkit_bench",
            "DATA_DIR": str(work / "data"),
            "MEDIA_ROOT": str(work / "data" / "media"),
            "SECRET_KEY": uuid.uuid4().hex,
            "LOG_LEVEL": "WARNING",
            "DEBUG": "false",
        }
        env.pop("CELERY_BROKER_URL", None)
        if args.mode == "celery":
            redis_port = free_port(56500)
            sh(*SERVICES, "start-redis", str(redis_dir), str(redis_port))
            env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        sh(
            "su", "postgres", "-c",
            f"psql -h 127.0.0.1 -p {pg_port} -qc 'create database fieldkit_bench'",
        )  # fmt: skip
        sh(PY, "manage.py", "migrate", "-v", "0", env=env)
        area_file = work / "bench_area.geojson"
        area_file.write_text(json.dumps(BENCH_AREA))
        sh(PY, "manage.py", "import_areas", str(area_file), env=env, capture=True)
        area_id = sh(
            PY, "manage.py", "shell", "-c",
            "from protected_areas.models import ProtectedArea;"
            "print(ProtectedArea.objects.get(wdpa_id=990001).pk)",
            env=env, capture=True,
        ).strip().splitlines()[-1]  # fmt: skip
        sh(
            PY, "manage.py", "publish_form", str(SHARED / "data" / "forms" / "bench_survey.xml"),
            "--area", area_id, env=env, capture=True,
        )  # fmt: skip
        created = sh(
            PY, "manage.py", "create_collector", "bench-collector", "--area", area_id,
            "--qr", str(work / "collector.png"), env=env, capture=True,
        )  # fmt: skip
        match = re.search(r"https?://\S+/key/[\w-]+", created)
        if not match:
            raise SystemExit(f"no token URL in create_collector's output:\n{created}")
        token_path = "/key/" + match.group(0).rsplit("/key/", 1)[1]

        port = free_port(58000)
        gunicorn = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"), "fieldkit.wsgi",
                "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                "--worker-class", "gthread", "--threads", str(args.threads),
                "--keep-alive", "30", "--timeout", "300", "--log-level", "warning",
            ],
            cwd=ROOT, env=env,
        )  # fmt: skip
        procs.append(gunicorn)
        cpu_pids = [gunicorn.pid, int((pg_dir / "postmaster.pid").read_text().split()[0])]
        if args.mode == "celery":
            celery = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "celery"), "-A", "fieldkit", "worker",
                 "--concurrency", "1", "--loglevel", "warning"],
                cwd=ROOT, env=env,
            )  # fmt: skip
            procs.append(celery)
            cpu_pids.append(celery.pid)
        wait_http(port)

        result_file = work / "load.json"
        load = subprocess.run(
            [
                sys.executable, str(SHARED / "tools" / "openrosa_load.py"),
                "--submit-url", f"http://127.0.0.1:{port}{token_path}/submission",
                "--n", str(args.n), "--concurrency", str(args.concurrency),
                "--cpu-pids", ",".join(map(str, cpu_pids)), "--head-first", "--dup-test",
                "--max-seconds", "600", "--json-out", str(result_file),
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if load.returncode != 0 or not result_file.exists():
            raise SystemExit(f"load client failed:\n{load.stdout[-3000:]}\n{load.stderr[-3000:]}")
        report = json.loads(result_file.read_text())

        if args.mode == "celery":  # let the worker drain the queue before counting
            time.sleep(2)
        counts = sh(
            PY, "manage.py", "shell", "-c",
            "import json; from django.db.models import Count; from odk_forms.models import Submission;"
            "print(json.dumps(dict(Submission.objects.values_list('state').annotate(n=Count('id')))))",
            env=env, capture=True,
        ).strip().splitlines()[-1]  # fmt: skip

        large = None
        if args.large_mb:
            workers = worker_pids(gunicorn.pid)
            before = {pid: rss_kb(pid) for pid in workers}
            status, seconds = post_large(port, f"{token_path}/submission", args.large_mb * 1_000_000)
            # Peak during the upload against the resident size before it: an upper bound.
            after = {pid: rss_kb(pid, "VmHWM") for pid in workers}
            growth = max(after[pid] - before[pid] for pid in workers) / 1024
            large = {"status": status, "seconds": round(seconds, 2), "peak_rss_growth_mb": round(growth, 1)}

        rate = report["submissions_per_s"] or 0.0
        print(f"mode: {args.mode}; gunicorn {args.workers} workers x {args.threads} threads; PostGIS")
        print(f"submissions: {report['ok']}/{report['n']} ok, statuses {report['statuses']}")
        print(f"stored by state: {counts}")
        print(f"rate: {rate:.1f} submissions/s")
        print(f"latency: p50 {report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms")
        print(
            f"server CPU: {report.get('server_cpu_ms_per_submission')} ms per submission "
            f"(gunicorn + PostgreSQL{' + Celery' if args.mode == 'celery' else ''})"
        )
        print(
            f"vs ODK Central here ({CENTRAL_RATE[0]:.0f}-{CENTRAL_RATE[1]:.0f}/s): "
            f"{rate / CENTRAL_RATE[1]:.2f}x-{rate / CENTRAL_RATE[0]:.2f}x"
        )
        print(
            f"duplicates: identical -> {report.get('dup_identical', {}).get('status')}, "
            f"changed -> {report.get('dup_changed_content', {}).get('status')}"
        )
        if large:
            print(
                f"large upload ({args.large_mb} MB): status {large['status']} in {large['seconds']} s, "
                f"worker peak RSS growth {large['peak_rss_growth_mb']} MB"
            )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        sh(*SERVICES, "stop-redis", str(redis_dir))
        sh(*SERVICES, "stop-postgis", str(pg_dir))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
