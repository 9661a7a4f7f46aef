"""fieldkit started for real and driven by Debian's Chromium: the fixtures of the browser
tests (a pytest plugin, loaded by tests/conftest.py).

    def test_it_shows_the_page(fieldkit_server, page, page_log):
        page.goto(fieldkit_server.url("/admin/login/"))
        page.screenshot(path=artifact_path("admin-login.png"))
        assert page_log.blocked == [] and page_log.errors == []

- `fieldkit_server` (one per test process): gunicorn with gunicorn.conf.py on a free
  loopback port, in the production shape (DEBUG off, static files collected with hashed
  names and served by WhiteNoise) but over plain HTTP (SECURE_SSL_REDIRECT=false), on a
  database of its own: a SpatiaLite file, or on PostGIS (DATABASE_URL) a new database
  beside the test database, dropped afterwards. It is migrated; `fieldkit_server.manage()`
  runs any other command against it (`load_demo`, `create_collector`...), and
  `with fieldkit_server.sibling(NAME="value") as other:` starts a second gunicorn on the
  same database with a setting changed.
- `browser` (one per test module): Debian's Chromium (/usr/bin/chromium), headless,
  launched by Playwright with a fresh profile (`--user-data-dir`) in a new temporary
  directory. `page`: a new browser context and page for each test; a request to anything
  but the loopback is refused and listed in `page_log.blocked`, JavaScript errors and
  failed responses go to `page_log.errors`; when the test fails, a screenshot is saved.
- Screenshots and other artifacts go to var/test-artifacts/<database>/
  (FIELDKIT_TEST_ARTIFACTS to change); `artifact_path(name)` gives a path there.

Playwright for Python rather than Selenium: it waits for pages and elements by itself,
reads computed styles and records every request and response with no extra code, prints a
page to PDF (the A4 dashboard), and needs no driver kept in step with the browser. It is
never asked to download a browser (`playwright install`): it starts Debian's.

Playwright's synchronous API marks its event loop as running in the test's thread, which
Django takes for asynchronous code calling the database and refuses. Tests in a module
that uses `browser` may still call the ORM: those calls are synchronous, so Django's guard
is lifted while the module's browser runs, and only then. Data the server must see is
best made through `fieldkit_server.manage()`, since the server has its own database.

Tests that use `browser` are skipped when Chromium is not installed (scripts/setup.sh
installs it), except under CI, where that is a failure.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.getenv("FIELDKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def database_label() -> str:
    return "postgis" if os.getenv("DATABASE_URL") else "spatialite"


def artifact_path(name: str) -> Path:
    """Where a test saves a screenshot or other artifact: var/test-artifacts/<database>/."""
    root = Path(os.getenv("FIELDKIT_TEST_ARTIFACTS", str(ROOT / "var" / "test-artifacts")))
    path = root / database_label() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


CACHE = ROOT / "var" / "test-cache"


@contextmanager
def cache_lock() -> Iterator[None]:
    """Held while a cached artifact is made: the test processes of a run share them."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _static_inputs_key() -> str:
    """A digest of everything collectstatic reads: every file the finders list, the settings
    and the versions of the packages that hash and compress."""
    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for package in ("django", "whitenoise", "brotli"):
        digest.update(f"{package}={version(package)}\n".encode())
    for module in ("fieldkit/settings.py", "fieldkit/vendor.py"):
        digest.update((ROOT / module).read_bytes())
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list(["CVS", ".*", "*~"]), key=lambda found: found[0]):
            digest.update(path.encode() + b"\0")
            with storage.open(path) as source:
                digest.update(hashlib.sha256(source.read()).digest())
    return digest.hexdigest()[:16]


def _migrations_key() -> str:
    """A digest of every migration of every installed app."""
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(database_label().encode())
    for key, migration in sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items()):
        digest.update(repr(key).encode())
        digest.update(Path(sys.modules[migration.__module__].__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


def collected_static() -> Path:
    """A STATIC_ROOT as collectstatic makes it for production, hashed names and gzip and
    Brotli copies. Brotli makes that take seconds, so it is made once for the same inputs
    and shared by the test processes of a run and by the runs after it (var/test-cache/)."""
    root = CACHE / f"static-{_static_inputs_key()}"
    with cache_lock():
        if not (root / "staticfiles.json").is_file():
            for stale in CACHE.glob("static-*"):
                shutil.rmtree(stale)
            work = CACHE / f"collecting-{os.getpid()}"
            shutil.rmtree(work, ignore_errors=True)
            env = {**server_environment(), "STATIC_ROOT": str(work)}
            run_manage(["collectstatic", "--noinput", "-v", "0"], env)
            work.rename(root)
    return root


def run_manage(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done.stdout


def server_environment() -> dict[str, str]:
    """This process's environment less what points at the test run's own services."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "FIELDKIT_TEST_REDIS_URL", "STATIC_ROOT", "DEBUG"):
        env.pop(name, None)
    return {**env, "DEBUG": "false", "LOG_LEVEL": "WARNING"}


class FieldkitServer:
    """gunicorn serving fieldkit in the production shape, on a database of its own."""

    def __init__(self, workdir: Path, static_root: Path) -> None:
        self.workdir = workdir
        self.static_root = static_root
        self.port = free_port()
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.database_name = ""
        self.env = {
            **server_environment(),
            # Over plain HTTP on the loopback, as an agency may run it inside its network.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.url(""),
            # A page never reaches out to the internet for its basemap in a test.
            "MAP_TILES_URL": self.url("/no-basemap/{z}/{x}/{y}.png"),
            "DATA_DIR": str(workdir),
            "MEDIA_ROOT": str(workdir / "media"),
            "STATIC_ROOT": str(static_root),
            "ODK_FORMS_FSYNC": "false",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "4",
        }

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def manage(self, *args: str, stdin: str | None = None) -> str:
        """Runs a management command against the server's database; returns its output."""
        return run_manage(list(args), self.env, stdin)

    def create_database(self) -> None:
        """A migrated database of the server's own: a copy of one migrated once for the
        same migrations (a SpatiaLite file in var/test-cache/, a PostGIS template)."""
        key = _migrations_key()
        if not os.getenv("DATABASE_URL"):
            template = CACHE / f"db-{key}"
            with cache_lock():
                if not template.is_dir():
                    for stale in CACHE.glob("db-*"):
                        shutil.rmtree(stale)
                    work = CACHE / f"migrating-{os.getpid()}"
                    shutil.rmtree(work, ignore_errors=True)
                    work.mkdir()
                    run_manage(["migrate", "--noinput", "-v", "0"], {**self.env, "DATA_DIR": str(work)})
                    work.rename(template)
            for file in template.glob("fieldkit.sqlite3*"):
                shutil.copyfile(file, self.workdir / file.name)
            return

        from psycopg import sql

        url = urlsplit(os.environ["DATABASE_URL"])
        base = url.path.lstrip("/")
        template_name = f"{base}_server_template_{key}"
        # Named by its port too: a module's own server must not take the database of the
        # session's server on the same worker (dropping it when the module ends).
        self.database_name = f"{base}_server_{os.getenv('PYTEST_XDIST_WORKER', 'main')}_{self.port}"
        with cache_lock(), self._maintenance() as connection:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template_name])
            if found.fetchone() is None:
                stale = connection.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{base}_server_template_%"]
                ).fetchall()
                for (name,) in stale:
                    connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template_name)))
                template_url = urlunsplit(url._replace(path=f"/{template_name}"))
                run_manage(["migrate", "--noinput", "-v", "0"], {**self.env, "DATABASE_URL": template_url})
            own = sql.Identifier(self.database_name)
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(own))
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(own, sql.Identifier(template_name))
            )
        self.env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{self.database_name}"))

    def drop_database(self) -> None:
        if self.database_name:
            from psycopg import sql

            with self._maintenance() as connection:
                own = sql.Identifier(self.database_name)
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(own))

    def _maintenance(self) -> Any:
        import psycopg

        url = urlsplit(os.environ["DATABASE_URL"])._replace(scheme="postgresql", path="/postgres")
        return psycopg.connect(urlunsplit(url), autocommit=True)

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")), "fieldkit.wsgi", "-c", "gunicorn.conf.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=5) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                # TimeoutError: on a loaded machine the first answer can take longer than the
                # read timeout; it is retried until the deadline like a refused connection.
                pass
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{self.log()[-3000:]}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGINT to the arbiter alone: gunicorn's quick shutdown (a graceful one waits
            # for the browser's kept-alive connections). Signalled by the arbiter and by
            # us at once, a worker could deadlock in its own signal handler.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @contextmanager
    def sibling(self, **env: str) -> Iterator[FieldkitServer]:
        """Another gunicorn on this server's database and files, with `env` added to its
        environment: for a setting read at start-up (what is published to visitors)."""
        workdir = self.workdir / f"sibling-{secrets.token_hex(4)}"
        workdir.mkdir()
        other = FieldkitServer(workdir, self.static_root)
        other.env = {
            **self.env,
            "SITE_URL": other.url(""),
            "MAP_TILES_URL": other.url("/no-basemap/{z}/{x}/{y}.png"),
            "GUNICORN_BIND": f"127.0.0.1:{other.port}",
            **env,
        }
        try:
            other.start()
            yield other
        finally:
            other.stop()


@pytest.fixture(scope="session")
def fieldkit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldkitServer]:
    server = FieldkitServer(tmp_path_factory.mktemp("fieldkit-server"), collected_static())
    try:
        server.create_database()
        server.start()
        yield server
    finally:
        server.stop()
        server.drop_database()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        reason = f"Debian's chromium is not installed ({CHROMIUM}): scripts/setup.sh installs it"
        if os.getenv("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()


@dataclass
class PageLog:
    """What a page did that a test may want to see refused."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, page_log: PageLog, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
    # A page served from the loopback that is not there in 10 s is not coming.
    context.set_default_timeout(10_000)

    def loopback_only(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            page_log.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def javascript_error(error: Any) -> None:
        page_log.errors.append(f"JavaScript: {error}")

    def console_error(message: Any) -> None:
        if message.type == "error":
            page_log.errors.append(f"console: {message.text}")

    def failed_response(response: Any) -> None:
        if response.status >= 400:
            page_log.errors.append(f"{response.status} {response.url}")

    context.route("**/*", loopback_only)
    page = context.new_page()
    page.on("pageerror", javascript_error)
    page.on("console", console_error)
    page.on("response", failed_response)
    try:
        yield page
        report = getattr(request.node, "_call_report", None)
        if report is not None and report.failed:
            page.screenshot(path=artifact_path(f"failed-{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keeps the outcome of each test's call, for `page` to screenshot failures."""
    report = yield
    if report.when == "call":
        item._call_report = report  # type: ignore[attr-defined]
    return report
