"""Evidence-ledger benchmark: pure CPU, in memory, no database.

    .venv/bin/python bench/ledger.py [--n 1000000]

Timed, each over N entries (kinds in turn, 50 actors, 1,000 subjects, a file on every third):

- append: `next_entry` on the previous entry, as the app calls it under its lock on the
  chain's head: every field checked, the entry hashed;
- entry hash alone: `entry_hash` of entries already built (what verification recomputes);
- read: a generator that rebuilds the stored entries one by one, as a database cursor
  would yield them (kept so that verification can be measured without holding N entries);
- verify: `verify_chain` over that generator, with an expected head; and verify minus read,
  the verification's own cost.

Figures printed: entries per second (CPU time of this process) and the peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enforcement.ledger import Entry, Kind, entry_hash, next_entry, sha256_bytes, verify_chain

T0 = datetime(2024, 1, 1, tzinfo=UTC)
KINDS = [kind.value for kind in Kind]
ACTORS = ["system", *(f"user:{i}" for i in range(1, 50))]
SUBJECTS = [
    f"case:{i:08x}-8b1d-4c55-9a3e-0d7f1e2b3c4d"
    if i % 2
    else f"submission:incident/uuid:{i:08x}-0000-4000-8000-000000000000"
    for i in range(1000)
]
CONTENT = [sha256_bytes(b"evidence %d" % i) for i in range(4096)]


def fields(i: int) -> dict:
    return {
        "kind": KINDS[i % len(KINDS)],
        "time": T0 + timedelta(milliseconds=37 * i),
        "actor": ACTORS[i % len(ACTORS)],
        "subject": SUBJECTS[i % len(SUBJECTS)],
        "content_hash": CONTENT[i % len(CONTENT)],
        "file": f"exhibits/2024/{i // 3:07d}.jpg" if i % 3 == 0 else None,
    }


def stored(n: int, hashes: bytearray) -> Iterator[Entry]:
    """The chain rebuilt from its fields and its 32-byte hashes, one entry at a time."""
    previous = "0" * 64
    for i in range(n):
        f = fields(i)
        own = hashes[32 * i : 32 * i + 32].hex()
        yield Entry(
            i + 1, f["kind"], f["time"], f["actor"], f["subject"], f["content_hash"], f["file"], previous, own
        )
        previous = own


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} entries/s  ({seconds * 1e6 / n:.2f} µs each, {seconds:.2f} s CPU)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="entries in the chain")
    n = parser.parse_args().n

    hashes = bytearray(32 * n)
    previous: Entry | None = None
    spent = 0.0
    for start in range(0, n, 100_000):
        chunk = [fields(i) for i in range(start, min(n, start + 100_000))]  # made outside the timing
        began = time.process_time()
        for i, f in enumerate(chunk, start):
            previous = next_entry(previous, **f)
            hashes[32 * i : 32 * i + 32] = bytes.fromhex(previous.entry_hash)
        spent += time.process_time() - began
    assert previous is not None
    head = previous.entry_hash
    print(f"ledger benchmark, {n:,} entries, Python {sys.version.split()[0]}")
    print(f"append (next_entry)     {rate(n, spent)}")

    sample = list(stored(min(n, 200_000), hashes))
    began = time.process_time()
    for entry in sample:
        entry_hash(entry)
    print(f"entry hash alone        {rate(len(sample), time.process_time() - began)}")
    del sample

    began = time.process_time()
    for _ in stored(n, hashes):
        pass
    reading = time.process_time() - began
    print(f"read (rebuild entries)  {rate(n, reading)}")

    began = time.process_time()
    result = verify_chain(stored(n, hashes), expected_head=head)
    verifying = time.process_time() - began
    assert result.ok and result.checked == n, result.problem
    print(f"verify (with reading)   {rate(n, verifying)}")
    print(f"verify minus read       {rate(n, verifying - reading)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory             {peak:>12,.0f} MB (the {32 * n / 2**20:,.0f} MB of stored hashes included)"
    )


if __name__ == "__main__":
    main()
