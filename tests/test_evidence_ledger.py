"""The stored evidence ledger: appends in the caller's transaction, the receipt hook that
hashes every submission and file before parsing, and concurrent appends (threads, each on
its own connection) that make one unbroken chain on PostGIS and on SpatiaLite."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import TransactionTestCase

from enforcement import evidence, ledger, verification
from enforcement.models import LedgerEntry, LedgerHead
from odk_forms.models import Attachment, Submission
from tests.base import BaseTestCase
from tests.xml_builders import make_form, make_instance, photo_bytes, post_submission

SUBJECT = "case:6f1c2a4e-8b1d-4c55-9a3e-0d7f1e2b3c4d"


def new(n: int) -> evidence.NewEntry:
    return evidence.NewEntry(ledger.Kind.CASE_OPENED, SUBJECT, ledger.sha256_bytes(b"fact %d" % n), "user:1")


@pytest.mark.django_db
def test_append_many_chains_onto_the_head():
    with transaction.atomic():
        first = evidence.append_many([new(1), new(2)])
    with transaction.atomic():
        third = evidence.append(new(3))
    assert [e.sequence for e in first] == [1, 2]
    assert third.previous_hash == first[1].entry_hash
    assert evidence.current_head() == third.head
    assert list(evidence.entries()) == [*first, third]
    assert verification.verify().ok


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        evidence.append(new(1))


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_entry():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        evidence.append(new(1))
        1 / 0  # noqa: B018
    assert not LedgerEntry.objects.exists()
    assert evidence.current_head() == ledger.GENESIS_HEAD


@pytest.mark.django_db
def test_an_append_is_two_statements_on_postgresql(django_assert_num_queries):
    with transaction.atomic():
        evidence.append(new(0))
    with (
        django_assert_num_queries(2 if connection.vendor == "postgresql" else 3),
        transaction.atomic(savepoint=False),
    ):
        evidence.append_many([new(1), new(2), new(3)])


class ReceiptTest(BaseTestCase):
    def setUp(self) -> None:
        self.version = make_form([self.area], photo_fields=("photo",))

    def test_every_submission_and_file_is_hashed_at_receipt(self):
        photo = photo_bytes(seed=3)
        xml = make_instance(photo="p.jpg")
        with self.captureOnCommitCallbacks(execute=True):
            response = post_submission(self.client, xml, {"p.jpg": photo})
        self.assertEqual(response.status_code, 201, response.content)
        submission = Submission.objects.get()
        entries = list(evidence.entries())
        self.assertEqual([e.kind for e in entries], ["submission_received", "attachment_received"])
        self.assertEqual(entries[0].content_hash, submission.xml_sha256)
        self.assertEqual(entries[1].content_hash, Attachment.objects.get().sha256)
        self.assertEqual(entries[0].actor, f"user:{self.collector.pk}")
        self.assertTrue(entries[0].subject.startswith("upload:submissions/"))
        self.assertIsNone(entries[0].file)

    def test_an_edit_from_the_phone_is_an_entry_of_its_own(self):
        with self.captureOnCommitCallbacks(execute=True):
            post_submission(self.client, make_instance(instance_id="uuid:first"))
        with self.captureOnCommitCallbacks(execute=True):
            response = post_submission(
                self.client, make_instance(instance_id="uuid:second", deprecated_id="uuid:first")
            )
        self.assertEqual(response.status_code, 201, response.content)
        edit = Submission.objects.get(instance_id="uuid:second")
        self.assertEqual(edit.state, "processed", edit.processing_error)
        kinds = [(e.kind, e.subject) for e in evidence.entries() if not e.subject.startswith("upload:")]
        self.assertEqual(kinds, [("submission_edited", "submission:patrol/uuid:first")])
        entry = next(e for e in evidence.entries() if e.kind == "submission_edited")
        self.assertEqual(entry.content_hash, edit.xml_sha256)
        # Processed again: recorded once.
        with transaction.atomic():
            evidence.record_edit(edit, b"")
        self.assertEqual(sum(e.kind == "submission_edited" for e in evidence.entries()), 1)

    def test_a_refused_submission_is_in_the_ledger_too(self):
        response = post_submission(self.client, b"<not xml")
        self.assertEqual(response.status_code, 400)
        self.assertEqual([e.kind for e in evidence.entries()], ["submission_received"])

    def test_the_hook_runs_before_parsing(self):
        calls: list[object] = []
        with self.settings(ODK_FORMS_RECEIPT_HOOKS=["tests.test_evidence_ledger.spy"]):
            SPY[:] = []
            post_submission(self.client, b"<not xml")
            calls = list(SPY)
        self.assertEqual(len(calls), 1)
        self.assertFalse(LedgerEntry.objects.exists())


SPY: list[object] = []


def spy(receipt: object) -> None:
    SPY.append(receipt)


class ConcurrentAppendTest(TransactionTestCase):
    """Appends from many threads at once, each on its own connection: one chain, no fork,
    no gap. On PostGIS the head's row lock serialises them; on SpatiaLite the write lock."""

    THREADS = 12
    EACH = 5

    def test_concurrent_appends_make_one_chain(self) -> None:
        LedgerHead.objects.get_or_create(chain=evidence.CHAIN)
        barrier = threading.Barrier(self.THREADS)
        failures: list[BaseException] = []

        def work(t: int) -> None:
            try:
                barrier.wait(timeout=10)
                for i in range(self.EACH):
                    with transaction.atomic():
                        evidence.append_many([new(1000 * t + i), new(1000 * t + i + 500)])
            except BaseException as exc:
                failures.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(t,)) for t in range(self.THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(failures, [])
        result = verification.verify()
        self.assertTrue(result.ok, result.problem)
        self.assertEqual(result.checked, self.THREADS * self.EACH * 2)
        self.assertEqual(evidence.current_head(), result.head)
