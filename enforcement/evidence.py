"""Appending to the evidence ledger, and reading it back for verification.

The chain (enforcement.ledger) is pure; this module stores it. Every append locks the
chain's head row (SELECT … FOR UPDATE) inside the caller's transaction, so the entries join
whatever the caller writes (a case opened and its entry commit together, or neither) and
concurrent appends queue on the head instead of forking the chain. The lock is held until
the caller commits: callers append last, just before their transaction ends.

On SQLite the transaction already holds the database's write lock from its start
(transaction_mode IMMEDIATE), which serialises appends the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from enforcement import ledger
from enforcement.models import LedgerEntry, LedgerHead

CHAIN = "evidence"
SYSTEM = "system"
# Rows read at a time when the chain is verified: memory stays constant.
READ_CHUNK = 2000

_LOCK_SQL = "SELECT sequence, entry_hash FROM {table} WHERE chain = %s"
_ENTRY_FIELDS = (
    "sequence",
    "kind",
    "time",
    "actor",
    "subject",
    "content_hash",
    "file",
    "previous_hash",
    "entry_hash",
)


@dataclass(frozen=True)
class NewEntry:
    """What a caller appends; the sequence, time and hashes are the ledger's to give."""

    kind: ledger.Kind
    subject: str
    content_hash: str
    actor: str = SYSTEM
    file: str | None = None


def actor_of(user: Any) -> str:
    """A stable identifier of who acted: "user:<id>", or "system" without a user."""
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM
    return f"user:{user.pk}"


def append(entry: NewEntry, *, time: datetime | None = None) -> ledger.Entry:
    return append_many([entry], time=time)[0]


def append_many(entries: Sequence[NewEntry], *, time: datetime | None = None) -> list[ledger.Entry]:
    """Append `entries`, in order, in the caller's transaction (required: the head stays
    locked until it commits). Two statements and the head's update: lock and read the head,
    insert the entries, move the head."""
    if not entries:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("append to the ledger inside the transaction that writes what it records")
    moment = time or timezone.now()
    head = _lock_head()
    previous: ledger.Entry | ledger.Head = head
    made: list[ledger.Entry] = []
    for new in entries:
        previous = ledger.next_entry(
            previous,
            kind=new.kind,
            time=moment,
            actor=new.actor,
            subject=new.subject,
            content_hash=new.content_hash,
            file=new.file,
        )
        made.append(previous)
    _store(made)
    return made


def _store(made: list[ledger.Entry]) -> None:
    """Insert the entries and move the head: one statement on PostgreSQL (a data-modifying
    WITH), two on SQLite. Written in SQL: the ORM's bulk_create and update cost more CPU
    than the hashing, on every submission received."""
    ops = connection.ops
    entry_table = ops.quote_name(LedgerEntry._meta.db_table)
    head_table = ops.quote_name(LedgerHead._meta.db_table)
    columns = ", ".join(ops.quote_name(name) for name in _ENTRY_FIELDS)
    values = ", ".join(["(" + ", ".join(["%s"] * len(_ENTRY_FIELDS)) + ")"] * len(made))
    params: list[Any] = []
    for entry in made:
        params.extend(entry)
        params[-7] = ops.adapt_datetimefield_value(entry.time)
    insert = f"INSERT INTO {entry_table} ({columns}) VALUES {values}"  # noqa: S608 - names are ours
    move = f"UPDATE {head_table} SET sequence = %s, entry_hash = %s WHERE chain = %s"  # noqa: S608
    last = made[-1]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH added AS ({insert}) {move}", [*params, last.sequence, last.entry_hash, CHAIN]
            )
        else:
            cursor.execute(insert, params)
            cursor.execute(move, [last.sequence, last.entry_hash, CHAIN])


def _lock_head() -> ledger.Head:
    """Lock the head row until the transaction ends, and read it."""
    sql = _LOCK_SQL.format(table=connection.ops.quote_name(LedgerHead._meta.db_table))
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [CHAIN])
        row = cursor.fetchone()
        if row is None:
            # The first append of a new database (the migration creates the row, a flushed
            # test database has none): create it, in a savepoint, then lock it like any other.
            LedgerHead.objects.get_or_create(chain=CHAIN)
            cursor.execute(sql, [CHAIN])
            row = cursor.fetchone()
    return ledger.Head(*row)


def current_head() -> ledger.Head:
    """The head as recorded (no lock: a reader's snapshot)."""
    row = LedgerHead.objects.filter(chain=CHAIN).values_list("sequence", "entry_hash").first()
    return ledger.GENESIS_HEAD if row is None else ledger.Head(*row)


def entries(order: str = "sequence", after: int = 0, upto: int | None = None) -> Iterator[ledger.Entry]:
    """The stored entries in `order` ("sequence", or "id": the order the rows were inserted),
    read in chunks by keyset (constant memory, no server-side cursor needed)."""
    if order not in ("sequence", "id"):
        raise ValueError(order)
    last = after if order == "sequence" else 0
    while True:
        rows = LedgerEntry.objects.order_by(order).filter(**{f"{order}__gt": last})
        if upto is not None:
            rows = rows.filter(sequence__lte=upto)
        chunk = list(rows.values_list("id", *_ENTRY_FIELDS)[:READ_CHUNK])
        if not chunk:
            return
        for row in chunk:
            if order == "id" and row[1] <= after:
                continue
            yield ledger.Entry(*row[1:])
        last = chunk[-1][0] if order == "id" else chunk[-1][1]


def record_receipt(receipt: Any) -> None:
    """The receipt hook (settings.ODK_FORMS_RECEIPT_HOOKS): a submission's XML and each of
    its files, hashed when they were written and before anything parsed them, enter the
    ledger. The entries name the upload by its storage stem, generated by the server (never
    a name the phone chose, which could hold personal data); a file that turns out to be a
    duplicate is removed later, so no file name is recorded, only its hash, which the stored
    submission and attachment rows repeat."""
    actor = actor_of(receipt.user)
    subject = f"upload:{receipt.base}"
    new: list[NewEntry] = []
    if receipt.xml is not None:
        new.append(NewEntry(ledger.Kind.SUBMISSION_RECEIVED, subject, receipt.xml.sha256, actor))
    new.extend(
        NewEntry(ledger.Kind.ATTACHMENT_RECEIVED, subject, part.sha256, actor) for part in receipt.parts
    )
    with transaction.atomic():
        append_many(new)


def record_edit(submission: Any, xml: bytes) -> None:
    """A submission processor (settings.ODK_FORMS_SUBMISSION_PROCESSORS): an edit sent from
    the phone (a replacement naming its deprecatedID) becomes an entry of its own, naming the
    record it replaces; its bytes were hashed at receipt, and the entry repeats that hash.
    Processing runs again after a failure or a reprocessing: the edit is recorded once."""
    if not submission.deprecated_id:
        return
    subject = f"submission:{submission.form.xml_form_id}/{submission.deprecated_id}"
    try:
        ledger.next_entry(
            None,
            kind=ledger.Kind.SUBMISSION_EDITED,
            time=timezone.now(),
            actor=SYSTEM,
            subject=subject,
            content_hash=submission.xml_sha256,
        )
    except ValueError:
        subject = f"submission:{submission.pk}"  # an identifier the ledger cannot hold as it is
    kind = ledger.Kind.SUBMISSION_EDITED
    if LedgerEntry.objects.filter(subject=subject, kind=kind, content_hash=submission.xml_sha256).exists():
        return
    append(NewEntry(kind, subject, submission.xml_sha256, actor_of(submission.submitted_by)))
