"""bench/openrosa_ingest.py counts the CPU of processes that exited, and fails loudly when
a submission was not stored, not processed or failed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("openrosa_ingest", ROOT / "bench" / "openrosa_ingest.py")
assert spec and spec.loader
bench = importlib.util.module_from_spec(spec)
sys.modules["openrosa_ingest"] = bench  # dataclasses look their module up by name
spec.loader.exec_module(bench)

# A parent that starts a child, which burns CPU and exits, then waits to be stopped.
BURN = "import time\\nend = time.process_time() + 0.4\\nwhile time.process_time() < end: pass"
PARENT = f"""
import subprocess, sys
subprocess.run([sys.executable, "-c", "{BURN}"])
print("child done", flush=True)
sys.stdin.read()
"""


def test_cpu_of_children_that_exited_is_counted():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        before = bench.cpu_ticks(bench.process_tree([parent.pid]))
        assert parent.stdout.readline().strip() == "child done"
        time.sleep(0.05)
        tree = bench.process_tree([parent.pid])
        assert tree == [parent.pid]  # the child is gone
        burnt = bench.cpu_ticks(tree) - before
        # At least most of the child's 0.4 s (ticks of 10 ms), although it no longer exists.
        assert burnt >= 0.3 * bench.os.sysconf("SC_CLK_TCK")
    finally:
        parent.communicate("")


def case(**changes):
    n = 10
    values = dict(
        clients=2,
        n=n,
        load=bench.LoadResult(1.0, [0.1] * n, {201: n}),
        drained_s=1.0,
        cpu_ms={"server": 100.0},
        states={"processed": n},
        attachments=n,
        errors=[],
    )
    values.update(changes)
    return bench.Case(**values)


def test_a_clean_case_has_no_failures():
    assert case().failures == []


def test_every_shortfall_is_a_failure():
    assert case(load=bench.LoadResult(1.0, [0.1] * 10, {201: 9, 500: 1}, ["500 b'locked'"])).failures
    assert case(states={"processed": 9}).failures  # one not stored
    assert case(attachments=9).failures  # one photo lost
    assert case(states={"processed": 8, "received": 2}).failures  # backlog not drained
    failed = case(states={"processed": 9, "failed": 1}, errors=["database is locked"]).failures
    assert any("database is locked" in line for line in failed)
