"""A worker thread inside the serving process, for the embedded configuration (no broker).

It does what a Celery worker and Celery beat do elsewhere: works through the ids handed to
it, one at a time, after the request that queued them has answered, and runs a periodic
job (the sweep that finds lost work). What it holds in memory is lost with the process; the
periodic job, which also runs when the thread starts, finds that work again in the database.

The thread is a daemon: at interpreter exit an atexit hook lets it finish what is queued
(a management command that received submissions leaves them processed), then stops it.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)

# What `handle` returns to have an item tried again later (seconds to wait), or None.
Handler = Callable[[int], float | None]

_STOP = object()


class Worker:
    """One daemon thread: `handle(item)` for each submitted item, `periodic(first)` when
    the thread starts (first=True) and every `interval` seconds after. An item whose
    handler asks for a retry is tried again, up to `max_retries` times, then left to the
    periodic job."""

    def __init__(
        self,
        name: str,
        handle: Handler,
        periodic: Callable[[bool], object],
        interval: Callable[[], float],
        max_retries: int = 5,
    ) -> None:
        self.name = name
        self._handle = handle
        self._periodic = periodic
        self._interval = interval
        self._max_retries = max_retries
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: queue.Queue[object] = queue.Queue()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._atexit_pid = 0

    def submit(self, item: int) -> None:
        """Queue `item`; start the thread if it is not running in this process."""
        self.start()
        with self._lock:
            self._pending += 1
            self._queue.put(item)

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            # A new process (a fork of one that ran the thread has no thread, only its copy
            # of the queue) or a stopped worker: start afresh. What the old queue held is
            # found again by the periodic job.
            self._queue = queue.Queue()
            # The first periodic run counts as work: wait_idle() waits for what it queues.
            self._pending = 1
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, args=(self._queue,), name=self.name, daemon=True
            )
            self._thread.start()
            if self._atexit_pid != self._pid:
                self._atexit_pid = self._pid
                atexit.register(self._finish_at_exit)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every submitted item has been handled; False if `timeout` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float | None = 10) -> None:
        """Stop the thread after the item in hand; what is still queued is dropped."""
        with self._lock:
            thread = self._thread if self._pid == os.getpid() else None
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)
        with self._idle:
            self._thread = None
            self._pending = 0
            self._idle.notify_all()

    def _finish_at_exit(self) -> None:
        if not self.running:
            return
        if self._pending:
            logger.info("Finishing %d queued item(s) before exit", self._pending)
        self.wait_idle()
        self.stop()

    def _run(self, items: queue.Queue[object]) -> None:
        retries: dict[int, int] = {}
        first, next_periodic = True, 0.0
        while True:
            if time.monotonic() >= next_periodic:
                self._call(self._periodic, first)
                if first:
                    self._done()
                first, next_periodic = False, time.monotonic() + self._interval()
            try:
                item = items.get(timeout=max(0.0, next_periodic - time.monotonic()))
            except queue.Empty:
                continue
            if item is _STOP:
                break
            assert isinstance(item, int)
            retry_after = self._call(self._handle, item)
            if isinstance(retry_after, int | float) and retries.get(item, 0) < self._max_retries:
                retries[item] = retries.get(item, 0) + 1
                # The database is busy: let the others in, then queue the item again.
                time.sleep(retry_after)
                items.put(item)
                continue
            retries.pop(item, None)
            self._done()
        self._close_connections()

    def _done(self) -> None:
        with self._idle:
            self._pending = max(0, self._pending - 1)
            if not self._pending:
                self._idle.notify_all()

    def _call(self, function: Callable[..., object], *args: object) -> object:
        try:
            result = function(*args)
        except Exception:
            # The thread must outlive any one item; what failed is found again by the
            # periodic job (its lease runs out, or it is still waiting).
            logger.exception("%s: %s%r failed", self.name, getattr(function, "__name__", function), args)
            self._close_connections()
            return None
        if self._queue.empty():
            # Idle: give the connection back rather than hold it between bursts of work.
            self._close_connections()
        return result

    @staticmethod
    def _close_connections() -> None:
        # This thread's connections only: Django keeps one set per thread.
        connections.close_all()
