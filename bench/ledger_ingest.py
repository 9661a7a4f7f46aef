"""The evidence ledger's cost at ingest: the receipt hook (enforcement.evidence.record_receipt)
as receiving calls it for each submission, an XML and one photo, each hashed into the chain
in its own transaction (lock the head, insert the entries, move the head, commit).

    DATABASE_URL=postgis://… .venv/bin/python bench/ledger_ingest.py [--n 2000]

Run against an empty, migrated database (tables are created with migrate first). Figures:
CPU per submission of this process (Python: building and hashing the entries, the ORM) and
of the PostgreSQL backend serving its connection (read from /proc), and the wall time. The
files' SHA-256 is not in the figures: receiving computes it while writing them, with or
without a ledger.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldkit.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from enforcement import evidence, ledger, verification  # noqa: E402
from odk_forms.receiving import Receipt  # noqa: E402
from odk_forms.storage import StoredFile  # noqa: E402


def backend_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    call_command("migrate", verbosity=0)
    receipts = [
        Receipt(
            f"submissions/2026/01/01/{i:024x}",
            StoredFile(
                f"submissions/2026/01/01/{i:024x}.xml", 3000, "0" * 32, ledger.sha256_bytes(b"x%d" % i)
            ),
            (
                StoredFile(
                    f"submissions/2026/01/01/{i:024x}/p.jpg", 20000, "0" * 32, ledger.sha256_bytes(b"p%d" % i)
                ),
            ),
            None,
            "",
        )
        for i in range(n)
    ]
    for receipt in receipts[:50]:  # warm-up: connection, statement caches
        evidence.record_receipt(receipt)
    pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
    db0, cpu0, wall0 = backend_cpu(pid), time.process_time(), time.perf_counter()
    for receipt in receipts[50:]:
        evidence.record_receipt(receipt)
    cpu, db, wall = time.process_time() - cpu0, backend_cpu(pid) - db0, time.perf_counter() - wall0
    m = n - 50
    print(f"ledger at ingest, {connection.vendor}, {m} submissions (XML + 1 photo: 2 entries each)")
    print(
        f"  CPU per submission: {1000 * (cpu + db) / m:.3f} ms "
        f"(python {1000 * cpu / m:.3f}, database {1000 * db / m:.3f})"
    )
    print(f"  wall per submission: {1000 * wall / m:.3f} ms")
    began = time.perf_counter()
    result = verification.verify()
    assert result.ok, result.problem
    print(f"  verify_evidence over {result.checked} entries: {time.perf_counter() - began:.2f} s")


if __name__ == "__main__":
    main()
