"""verify_evidence and ledger_head: the ledger tampered with directly in the database (a row
edited, deleted, two swapped), or an evidence file changed on disk, fails at exactly that
entry, with status 1; an intact ledger passes, and a head published earlier pins it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from enforcement import evidence, ledger
from enforcement.models import LedgerEntry, LedgerHead

SUBJECT = "case:6f1c2a4e-8b1d-4c55-9a3e-0d7f1e2b3c4d"


def build_chain(n: int = 8) -> list[ledger.Entry]:
    """n entries; every third records a file under MEDIA_ROOT."""
    made = []
    for i in range(1, n + 1):
        if i % 3 == 0:
            name = f"exhibits/test/{i}.bin"
            path = Path(settings.MEDIA_ROOT) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"exhibit %d" % i)
            item = evidence.NewEntry(
                ledger.Kind.EXHIBIT_LOGGED, SUBJECT, ledger.sha256_file(path), "user:1", name
            )
        else:
            item = evidence.NewEntry(ledger.Kind.CASE_STATUS_CHANGED, SUBJECT, ledger.sha256_bytes(b"%d" % i))
        with transaction.atomic():
            made.append(evidence.append(item))
    return made


def verify(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_evidence", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), err.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_an_intact_ledger_passes():
    chain = build_chain()
    status, text = verify()
    assert status == 0
    assert "OK: 8 entries, 2 files" in text
    assert str(chain[-1].head) in text


@pytest.mark.django_db
def test_ledger_head_prints_what_verify_accepts():
    build_chain()
    out = io.StringIO()
    call_command("ledger_head", stdout=out)
    head = out.getvalue().strip()
    assert head == str(evidence.current_head())
    assert verify("--published-head", head)[0] == 0
    with transaction.atomic():
        evidence.append(evidence.NewEntry(ledger.Kind.CASE_OPENED, SUBJECT, ledger.sha256_bytes(b"x")))
    status, text = verify("--published-head", head)
    assert status == 0, text
    assert "2 heads confirmed" in text  # the published one and the head row


@pytest.mark.django_db
def test_an_edited_row_fails_at_that_entry():
    build_chain()
    LedgerEntry.objects.filter(sequence=5).update(actor="user:2")
    status, text = verify()
    assert status == 1
    assert "FAILED at entry 5: edited" in text


@pytest.mark.django_db
def test_a_deleted_row_fails_at_that_entry():
    build_chain()
    LedgerEntry.objects.filter(sequence=4).delete()
    status, text = verify()
    assert status == 1
    assert "FAILED at entry 4: deleted" in text


@pytest.mark.django_db
def test_the_last_row_deleted_fails_against_the_head():
    build_chain()
    LedgerEntry.objects.filter(sequence=8).delete()
    status, text = verify()
    assert status == 1
    assert "head_mismatch" in text


@pytest.mark.django_db
def test_two_swapped_rows_fail_at_the_first_of_them():
    build_chain()
    rows = {r.sequence: r for r in LedgerEntry.objects.filter(sequence__in=(3, 6))}
    # Exchange the contents of the two rows (ids stay): intact in sequence order, out of
    # the order in which they were inserted.
    fields = [f.attname for f in LedgerEntry._meta.concrete_fields if f.attname != "id"]
    three = {f: getattr(rows[3], f) for f in fields}
    six = {f: getattr(rows[6], f) for f in fields}
    LedgerEntry.objects.filter(pk=rows[6].pk).update(sequence=-6, previous_hash="x", entry_hash="y")
    LedgerEntry.objects.filter(pk=rows[3].pk).update(**six)
    LedgerEntry.objects.filter(pk=rows[6].pk).update(**three)
    status, text = verify()
    assert status == 1
    assert "FAILED at entry 3: reordered: entry 6 comes where entry 3 belongs" in text


@pytest.mark.django_db
def test_swapped_sequence_numbers_fail_at_the_first_of_them():
    build_chain()
    LedgerEntry.objects.filter(sequence=3).update(sequence=-3)
    LedgerEntry.objects.filter(sequence=4).update(sequence=3)
    LedgerEntry.objects.filter(sequence=-3).update(sequence=4)
    status, text = verify()
    assert status == 1
    assert "FAILED at entry 3: edited" in text


@pytest.mark.django_db
def test_a_changed_file_fails_at_its_entry():
    build_chain()
    (Path(settings.MEDIA_ROOT) / "exhibits/test/6.bin").write_bytes(b"exhibit 6, retouched")
    status, text = verify()
    assert status == 1
    assert "FAILED at entry 6: file_changed" in text


@pytest.mark.django_db
def test_a_missing_file_fails_at_its_entry():
    build_chain()
    (Path(settings.MEDIA_ROOT) / "exhibits/test/3.bin").unlink()
    status, text = verify()
    assert status == 1
    assert "FAILED at entry 3: file_missing" in text


@pytest.mark.django_db
def test_a_rewritten_chain_fails_against_a_published_head():
    chain = build_chain()
    published = str(chain[3].head)
    # Rewrite from entry 4 on, consistently, and move the head row along: only the head
    # published before the rewrite can tell.
    LedgerEntry.objects.filter(sequence__gte=4).delete()
    previous: ledger.Entry | None = chain[2]
    for old in chain[3:]:
        previous = ledger.next_entry(
            previous,
            kind=old.kind,
            time=old.time,
            actor="user:666",
            subject=old.subject,
            content_hash=old.content_hash,
            file=old.file,
        )
        LedgerEntry.objects.create(**previous._asdict())
    assert previous is not None
    LedgerHead.objects.update(sequence=previous.sequence, entry_hash=previous.entry_hash)
    assert verify()[0] == 0
    status, text = verify("--published-head", published)
    assert status == 1
    assert "FAILED at entry 4: head_mismatch" in text


def test_a_malformed_published_head_is_an_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("verify_evidence", "--published-head", "abc")
