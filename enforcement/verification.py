"""Verifying the stored ledger: the chain recomputed in sequence order, then again in the
order the rows were inserted (a swap of two rows' contents keeps the sequence order intact
but not the insertion order), the evidence files rehashed, the head row and heads published
earlier compared."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from django.conf import settings

from enforcement import evidence, ledger


def verify(
    *, published: Collection[ledger.Head] = (), subjects: Collection[str] | None = None
) -> ledger.VerificationResult:
    """Verify the whole chain and the files it records. With `subjects` (a case's), only
    the files of entries about them are rehashed; the chain is still checked whole, since
    a case's entries are only as good as every link between them."""
    on_disk = ledger.hash_files_under(settings.MEDIA_ROOT)
    reading: list[ledger.Entry] = []

    def stream() -> Iterator[ledger.Entry]:
        for entry in evidence.entries("sequence"):
            reading[:] = [entry]
            yield entry

    file_hash: Callable[[str], str | None] = on_disk
    if subjects is not None:
        wanted = frozenset(subjects)

        def file_hash(name: str) -> str | None:
            # verify_chain asks for an entry's file as it checks that entry: the one just read.
            entry = reading[0]
            return on_disk(name) if entry.subject in wanted else entry.content_hash

    head = evidence.current_head()
    result = ledger.verify_chain(
        stream(),
        file_hash=file_hash,
        expected_head=head.entry_hash if head.sequence else None,
        published_heads=published,
    )
    if not result.ok:
        return result
    # Rows in the order they were inserted: the appends inserted them in sequence order, so
    # rows whose contents were exchanged show here even when each is intact in itself.
    inserted = ledger.verify_chain(evidence.entries("id"))
    return inserted if not inserted.ok else result
