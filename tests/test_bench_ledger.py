"""bench/ledger.py runs and prints every figure it promises (on a small chain)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_ledger_benchmark_prints_its_rates():
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ledger.py"), "--n", "3000"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for label in ("append (next_entry)", "entry hash alone", "verify (with reading)", "verify minus read"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert "entries/s" in line
    assert "3,000 entries" in out and "peak memory" in out
