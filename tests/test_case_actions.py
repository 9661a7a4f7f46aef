"""Cases: the workflow's transitions per role (allowed and refused), links to illicit
records, exhibits and custody, persons of interest and their redaction; every change in
the ledger, which still verifies after a redaction. Users from tests/access_scene.py: law
enforcement and the manager of the area, law enforcement of another area, a viewer."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import TestCase

from enforcement import actions, evidence, ledger, permissions, verification
from enforcement.models import Case, CaseStatus, PersonOfInterest
from fieldkit.errors import Problem
from tests import access_scene as scene

S = CaseStatus


class CaseTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def open(self, **kw) -> Case:  # type: ignore[no-untyped-def]
        return actions.open_case(
            self.law, area_id=self.area.pk, title="Shot eagle", records=[self.eagle_obs.record_uuid], **kw
        )

    def assertProblem(self, code: str, call, *args, **kw) -> Problem:  # type: ignore[no-untyped-def]
        with self.assertRaises(Problem) as caught:
            call(*args, **kw)
        self.assertEqual(caught.exception.code, code, caught.exception.message)
        return caught.exception


class WorkflowTest(CaseTestCase):
    def test_a_case_from_report_to_closure(self):
        case = self.open()
        actions.change_status(self.manager, case, S.VERIFIED)
        actions.change_status(self.law, case, S.UNDER_INVESTIGATION)
        actions.add_note(self.law, case, "Suspect seen at the market.")
        actions.change_status(self.law, case, S.REFERRED)
        actions.change_status(self.law, case, S.IN_COURT)
        actions.record_outcome(self.law, case, "Convicted", penalty="PGK 1500.00")
        actions.change_status(self.manager, case, S.CLOSED)
        case.refresh_from_db()
        self.assertEqual(case.status, S.CLOSED)
        self.assertEqual(case.penalty, "PGK 1500.00")
        self.assertEqual(
            [c.to_status for c in case.status_changes.all()],
            [
                S.REPORTED,
                S.VERIFIED,
                S.UNDER_INVESTIGATION,
                S.REFERRED,
                S.IN_COURT,
                S.OUTCOME_RECORDED,
                S.CLOSED,
            ],
        )
        kinds = [e.kind for e in evidence.entries() if e.subject == case.subject]
        self.assertEqual(
            kinds,
            [
                "case_opened",
                "record_linked",
                "case_status_changed",
                "case_status_changed",
                "note_added",
                "case_status_changed",
                "case_status_changed",
                "outcome_recorded",
                "case_status_changed",
                "case_status_changed",
            ],
        )
        self.assertTrue(verification.verify().ok)

    def test_law_enforcement_may_not_verify_nor_close(self):
        case = self.open()
        self.assertProblem("403.51", actions.change_status, self.law, case, S.VERIFIED)
        self.assertProblem("403.51", actions.change_status, self.law, case, S.DISMISSED)

    def test_a_manager_may_not_investigate(self):
        case = self.open()
        actions.change_status(self.manager, case, S.VERIFIED)
        self.assertProblem("403.51", actions.change_status, self.manager, case, S.UNDER_INVESTIGATION)
        actions.change_status(self.manager, case, S.DISMISSED)

    def test_a_skipped_step_is_refused(self):
        case = self.open()
        problem = self.assertProblem("409.50", actions.change_status, self.manager, case, S.IN_COURT)
        self.assertIn("verified, dismissed", problem.message)

    def test_a_closed_case_takes_no_more_changes(self):
        case = self.open()
        actions.change_status(self.manager, case, S.DISMISSED)
        self.assertProblem("409.51", actions.change_status, self.manager, case, S.VERIFIED)
        self.assertProblem("409.51", actions.add_note, self.law, case, "late")

    def test_the_outcome_is_recorded_with_its_text(self):
        case = self.open()
        self.assertProblem("409.50", actions.record_outcome, self.law, case, "Convicted")
        self.assertProblem("400.50", actions.record_outcome, self.law, case, " ")

    def test_others_may_not_open_or_change_cases_of_the_area(self):
        case = self.open()
        for user in (self.viewer, self.outside_law, self.outsider, self.member, self.collector):
            with self.subTest(user=user.username):
                self.assertProblem("403.50", actions.open_case, user, area_id=self.area.pk, title="x")
                self.assertProblem("403.50", actions.change_status, user, case, S.VERIFIED)
                self.assertProblem("403.50", actions.add_note, user, case, "x")

    def test_national_law_enforcement_investigates_everywhere(self):
        case = self.open()
        actions.change_status(self.manager, case, S.VERIFIED)
        actions.change_status(self.national_law, case, S.UNDER_INVESTIGATION)

    def test_only_illicit_records_of_the_area_are_linked(self):
        case = self.open()
        self.assertProblem("400.51", actions.link_record, self.law, case, self.cassowary_obs.record_uuid)
        other = actions.open_case(self.outside_law, area_id=self.other_area.pk, title="Elsewhere")
        self.assertProblem("400.51", actions.link_record, self.outside_law, other, self.eagle_obs.record_uuid)
        actions.link_record(self.law, case, self.eagle_obs.record_uuid)  # again: no second link
        self.assertEqual(case.records.count(), 1)

    def test_who_sees_which_cases(self):
        case = self.open()
        other = actions.open_case(self.outside_law, area_id=self.other_area.pk, title="Elsewhere")
        expect = {
            "law": [case],
            "manager": [case],
            "outside_law": [other],
            "outsider": [other],
            "viewer": [],
            "member": [],
            "national_viewer": [],
            "national_law": [case, other],
        }
        for name, cases in expect.items():
            with self.subTest(user=name):
                seen = permissions.cases_for(getattr(self, name)).order_by("opened_at")
                self.assertEqual(list(seen), cases)


class ExhibitTest(CaseTestCase):
    def test_an_exhibit_and_its_custody_are_in_the_ledger(self):
        case = self.open()
        exhibit = actions.add_exhibit(
            self.law, case, description="Shotgun", holder="Ranger post", content=b"photo", extension="JPG"
        )
        self.assertEqual(exhibit.sha256, ledger.sha256_bytes(b"photo"))
        self.assertTrue(exhibit.file.name.startswith(f"exhibits/{case.uuid}/{exhibit.uuid}.jpg"))
        actions.transfer_custody(
            self.law, exhibit, to_holder="Police store", reason="for court", received_by="Sgt. Kila"
        )
        exhibit.refresh_from_db()
        self.assertEqual(exhibit.holder, "Police store")
        self.assertEqual(exhibit.custody.get().from_holder, "Ranger post")
        kinds = [e.kind for e in evidence.entries() if e.subject == exhibit.subject]
        self.assertEqual(kinds, ["exhibit_logged", "file_added", "custody_transferred"])
        self.assertTrue(verification.verify().ok)

        # The file changed on disk: verify_evidence fails at its entry.
        file_entry = next(e for e in evidence.entries() if e.kind == "file_added")
        (Path(settings.MEDIA_ROOT) / exhibit.file.name).write_bytes(b"other photo")
        err = io.StringIO()
        with self.assertRaises(SystemExit):
            call_command("verify_evidence", "--case", str(case.uuid), stderr=err)
        self.assertIn(f"FAILED at entry {file_entry.sequence}: file_changed", err.getvalue())

    def test_only_investigators_log_exhibits(self):
        case = self.open()
        self.assertProblem("403.52", actions.add_exhibit, self.manager, case, description="x", holder="y")
        self.assertProblem("403.50", actions.add_exhibit, self.outside_law, case, description="x", holder="y")


class PersonTest(CaseTestCase):
    def test_a_person_is_linked_across_cases_and_redacted_without_breaking_the_chain(self):
        case = self.open()
        party = actions.add_person(self.law, case, name="Peter Kaupa", birth_year=1980)
        person = party.person
        self.assertEqual(len(person.salt), 32)
        other = actions.open_case(self.outside_law, area_id=self.other_area.pk, title="Again")
        actions.link_person(self.outside_law, other, person)
        self.assertEqual(person.cases.count(), 2)
        fact_hash = ledger.content_hash_of_fact(actions.person_fact(person))
        self.assertIn(fact_hash, [e.content_hash for e in evidence.entries() if e.subject == person.subject])

        # Both areas' managers must agree: one alone may not.
        self.assertProblem("403.50", actions.redact_person, self.manager, person, fields=["name"], reason="r")
        self.assertProblem("403.50", actions.redact_person, self.law, person, fields=["name"], reason="r")
        actions.redact_person(
            self.admin, person, fields=PersonOfInterest.PERSONAL_FIELDS, reason="retention period over"
        )
        person.refresh_from_db()
        self.assertEqual((person.name, person.birth_year, person.salt), ("", None, ""))
        redaction = person.redactions.get()
        self.assertNotIn("Peter", str(redaction.record))
        self.assertTrue(verification.verify().ok)
        self.assertEqual([e.kind for e in evidence.entries()][-1], "redaction")

    def test_only_investigators_record_persons(self):
        case = self.open()
        self.assertProblem("403.52", actions.add_person, self.manager, case, name="x")
        self.assertProblem("400.50", actions.add_person, self.law, case, phone="x")
