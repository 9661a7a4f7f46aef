"""indicators.incremental: dirty keys claimed and coalesced, a submission's old and new
area-months both recomputed, and incremental results equal to a full recomputation after
random sequences of new submissions, edits and re-runs."""

from __future__ import annotations

import random
import threading
import unittest
from datetime import date
from typing import Any
from unittest import mock

from django.db import connection
from django.test import TestCase, TransactionTestCase, override_settings

from indicators import compute, grid, incremental
from indicators.models import CellFigure, DirtyKey, IndicatorRow, IndicatorValue, MonthlySwath, PeriodSwath
from observations.models import Observation, Patrol
from observations.records import delete_records
from observations.reference import sync_reference_data
from odk_forms.models import Submission
from tests import indicator_builders as ib
from tests import observation_builders as ob
from tests.base import BaseTestCase
from tests.builders import make_area

MAY = date(2024, 5, 1)


def snapshot() -> dict[tuple, tuple]:
    return {
        (v.area_id, v.zone_id, v.cell_id, v.period_kind, v.period_start, v.indicator, v.subject): (
            v.value,
            v.numerator,
            v.denominator,
            v.lower,
            v.upper,
            v.effort,
        )
        for v in IndicatorRow.objects.all()
    }


class DirtyKeysTest(TestCase):
    def test_a_burst_coalesces_into_one_claim(self) -> None:
        incremental.mark_dirty([(1, MAY)])
        incremental.mark_dirty([(1, MAY), (2, MAY)])
        incremental.mark_dirty([(1, MAY)])
        self.assertEqual(DirtyKey.objects.count(), 2)
        token, keys = incremental.claim()
        self.assertEqual(sorted(keys), [(1, MAY), (2, MAY)])
        # A second worker finds nothing to take.
        self.assertEqual(incremental.claim()[1], [])
        self.assertEqual(incremental.finish(token), 0)
        self.assertFalse(DirtyKey.objects.exists())

    def test_a_key_marked_during_its_computation_stays_dirty(self) -> None:
        incremental.mark_dirty([(1, MAY)])
        token, _ = incremental.claim()
        incremental.mark_dirty([(1, MAY)])
        self.assertEqual(incremental.finish(token), 1)
        key = DirtyKey.objects.get()
        self.assertIsNone(key.claimed_by)

    def test_an_update_takes_another_round_only_when_needed(self) -> None:
        rounds: list[list] = []

        last = incremental.AREAS_PER_CLAIM + 1

        def compute_months(keys: list) -> None:
            rounds.append(sorted(keys))
            if len(rounds) == 2:  # submissions written during the second round
                incremental.mark_dirty([(last, MAY), (5, MAY)])

        incremental.mark_dirty([(area, MAY) for area in range(1, last + 1)])
        with mock.patch.object(compute, "compute_months", compute_months):
            self.assertEqual(incremental.update(), last + 2)
        # A full claim, the area left over, then its key marked again meanwhile (with whatever
        # else is dirty by then); not a fourth look.
        self.assertEqual([len(keys) for keys in rounds], [incremental.AREAS_PER_CLAIM, 1, 2])
        self.assertEqual(rounds[2], [(5, MAY), (last, MAY)])
        self.assertFalse(DirtyKey.objects.exists())

    def test_an_update_stops_when_what_it_claimed_is_done(self) -> None:
        rounds: list[list] = []

        def compute_months(keys: list) -> None:
            rounds.append(sorted(keys))
            incremental.mark_dirty([(2, MAY)])  # another area's submission, its own update asked for

        incremental.mark_dirty([(1, MAY)])
        with mock.patch.object(compute, "compute_months", compute_months):
            self.assertEqual(incremental.update(), 1)
        self.assertEqual(rounds, [[(1, MAY)]])
        self.assertEqual(list(DirtyKey.objects.values_list("area_id", flat=True)), [2])

    def test_an_area_being_computed_is_left_to_its_worker(self) -> None:
        incremental.mark_dirty([(1, MAY)])
        incremental.claim()
        incremental.mark_dirty([(1, date(2024, 6, 1)), (2, MAY)])
        self.assertEqual(incremental.claim()[1], [(2, MAY)])


class RandomSequences:
    """Random sequences of new submissions, edits, deletions and re-runs, each followed by
    an update; then the values equal those of a full recomputation."""

    areas: list
    seeds = 12
    assertEqual: Any
    assertIn: Any
    subTest: Any

    def test_random_sequences(self) -> None:
        self.seen: set[tuple[str, bool]] = set()
        for seed in range(self.seeds):
            rng = random.Random(seed)
            steps = [
                (
                    rng.choice(["new", "new", "edit", "rerun", "delete"]),
                    rng.randint(0, 1),  # area
                    rng.randint(1, 8),  # month
                    rng.randint(0, 3),  # records
                    rng.choice(["casuarius_casuarius", "goura_scheepmakeri", None]),
                )
                for _ in range(rng.randint(1, 8))
            ]
            with self.subTest(seed=seed, steps=steps):
                self.run_steps(steps)
        # The sequences exercised every family, on the grid too.
        for code in (
            ("effort.km", True),
            ("cpue.records.km", True),
            ("coverage.area", False),
            ("coverage.cells", False),
            ("resource.quantity", False),
            ("bio.accumulation", False),
            ("mett.suggested", False),
        ):
            self.assertIn(code, self.seen)

    def run_steps(self, steps: list[tuple[str, int, int, int, str | None]]) -> None:
        IndicatorValue.objects.all().delete()
        CellFigure.objects.all().delete()
        MonthlySwath.objects.all().delete()  # computed state too: merged into quarters and years
        PeriodSwath.objects.all().delete()
        roots = []
        for action, area_index, month, records, taxon in steps:
            area, day = self.areas[area_index], date(2024, month, 1 + records)
            if action == "new" or not roots:
                sub = ib.submission()
                roots.append(sub)
            else:
                sub = roots[-1]
                if action in ("edit", "delete"):
                    Patrol.objects.filter(root_submission=sub).delete()
                    Observation.objects.filter(root_submission=sub).delete()
            if action != "rerun" and action != "delete":
                # A track in the area (cells, coverage), placed by month and records.
                west, south = area.boundary.extent[:2]
                start = (west + 0.005 * month, south + 0.01 + 0.01 * records)
                track = [start, (start[0] + 0.02, start[1] + 0.01 * (records + 1))]
                legday = ib.leg_day(area, day, km=3.0 + month, sub=sub, track=track)
                for i in range(records):
                    obs = ib.observation(
                        area, day, taxon=taxon, individuals=records, sub=sub, point=track[i % 2]
                    )
                    Observation.objects.filter(pk=obs.pk).update(leg_day=legday)
                    ib.resource_use(
                        area,
                        day,
                        ("timber", "fish")[i % 2],
                        1.0 + i,
                        ("logs", "kg")[month % 2],
                        (True, False, None)[i % 3],
                        "commercial",
                        "outsiders",
                        sub=sub,
                    )
            incremental.after_submission(sub, b"")
            incremental.update()
        incremental_values = snapshot()
        IndicatorValue.objects.all().delete()
        compute.compute_full()
        self.assertEqual(incremental_values, snapshot())
        self.seen |= {(key[5], key[2] != 0) for key in incremental_values}
        Patrol.objects.all().delete()
        Observation.objects.all().delete()


def two_areas() -> list:
    areas = [make_area(), make_area(bounds=(147.5, -9.5, 147.6, -9.4))]
    for area in areas:
        grid.build_grid(area)
    return areas


class IncrementalEqualsFullTest(RandomSequences, TestCase):
    """In a test case's transaction: each update computes in one transaction."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.areas = two_areas()


@unittest.skipUnless(connection.vendor == "postgresql", "two connections at once: PostgreSQL only")
# The updates are this test's own calls, none queued after a submission.
@override_settings(INDICATORS_UPDATE_AFTER_SUBMISSION=False)
class UpdateOnTwoConnectionsTest(RandomSequences, TransactionTestCase):
    """Committed records, as in a worker: each update computes its two parts at once, on two
    connections (compute.MAIN here, compute.BESIDE on the thread's own)."""

    seeds = 4

    def setUp(self) -> None:
        # The categories and species the migrations wrote, gone with an earlier test's flush.
        sync_reference_data()
        self.areas = two_areas()
        self.addCleanup(compute.close_beside_connection)

    def test_both_parts_ran_on_their_own_connections(self) -> None:
        seen: list[tuple[str, int]] = []
        real = compute._compute_months_part

        def part(keys: set, which: str) -> None:
            seen.append((which, threading.get_ident()))
            real(keys, which)

        self.add_submission()
        with mock.patch.object(compute, "_compute_months_part", part):
            incremental.update()
        parts = dict(seen)
        self.assertEqual(sorted(parts), [compute.BESIDE, compute.MAIN])
        self.assertNotEqual(parts[compute.BESIDE], parts[compute.MAIN])
        self.assertTrue(IndicatorValue.objects.filter(indicator="coverage.area").exists())
        self.assertTrue(IndicatorValue.objects.filter(indicator="effort.km").exists())

    def test_a_part_that_fails_leaves_its_keys_dirty(self) -> None:
        self.add_submission()
        with (
            mock.patch.object(compute.accumulation, "accumulation", side_effect=RuntimeError("down")),
            self.assertRaises(RuntimeError),
        ):
            incremental.update()
        key = DirtyKey.objects.get()
        self.assertIsNone(key.claimed_by)
        # Nothing of the failed part was kept; the next update computes both parts again.
        self.assertFalse(IndicatorValue.objects.filter(indicator="coverage.area").exists())
        incremental.update()
        self.assertFalse(DirtyKey.objects.exists())
        values = snapshot()
        IndicatorValue.objects.all().delete()
        compute.compute_full()
        self.assertEqual(values, snapshot())
        self.assertTrue(any(key[5] == "bio.accumulation" for key in values))

    def add_submission(self) -> None:
        area = self.areas[0]
        sub = ib.submission()
        west, south = area.boundary.extent[:2]
        track = [(west + 0.01, south + 0.01), (west + 0.03, south + 0.02)]
        legday = ib.leg_day(area, date(2024, 5, 3), km=4.0, sub=sub, track=track)
        obs = ib.observation(
            area, date(2024, 5, 3), taxon="casuarius_casuarius", individuals=2, sub=sub, point=track[0]
        )
        Observation.objects.filter(pk=obs.pk).update(leg_day=legday)
        incremental.after_submission(sub, b"")


class SubmissionUpdatesIndicatorsTest(BaseTestCase):
    def test_a_new_submission_updates_its_area(self) -> None:
        area, user = self.area, self.collector
        ob.publish(ob.patrol_form_md(), [area])
        compute.compute_full()
        self.assertFalse(IndicatorValue.objects.exists())
        xml = ob.instance_xml(
            "fk_patrol",
            ob.patrol_values(track=ob.geotrace([(147.36, -9.47), (147.36, -9.40)])),
            {
                "obs": [
                    ob.observation_values(
                        loc=ob.geopoint(147.36, -9.43),
                        when="2024-05-14T09:00:00+10:00",
                        category="human_activity.weapons.snare",
                    )
                ]
            },
        )
        with self.captureOnCommitCallbacks(execute=True):
            ob.submit(xml, user)
        self.assertFalse(DirtyKey.objects.exists())
        km = IndicatorValue.objects.get(area=area, indicator="effort.km", period_kind="M", period_start=MAY)
        self.assertAlmostEqual(km.value, 7.8, delta=0.1)
        rate = IndicatorRow.objects.get(
            area=area,
            indicator="cpue.records.km",
            period_kind="Y",
            subject="category:human_activity.weapons.snare",
        )
        self.assertAlmostEqual(rate.value, 10 / km.value)


JUNE = date(2024, 6, 1)


class SwathReuseTest(BaseTestCase):
    """A month's swath is buffered again only when its tracks changed (MonthlySwath's
    fingerprint); a recomputation that keeps it gives the same coverage."""

    MAY_TRACK = [(147.36, -9.47), (147.36, -9.40)]
    SHORTER = [(147.36, -9.47), (147.36, -9.44)]

    def setUp(self) -> None:
        ob.publish(ob.patrol_form_md(), [self.area])
        self.may = self.patrol("2024-05-14", self.MAY_TRACK)
        self.patrol("2024-06-03", [(147.32, -9.45), (147.40, -9.45)])
        compute.compute_full()

    def patrol(self, day: str, track: list[tuple[float, float]], edits: str | None = None) -> str:
        values = ob.patrol_values(
            start_time=f"{day}T07:00:00.000+10:00",
            end_time=f"{day}T15:30:00.000+10:00",
            track=ob.geotrace(track),
        )
        xml = ob.instance_xml("fk_patrol", values, deprecated_id=edits)
        with self.captureOnCommitCallbacks(execute=True):
            sub = ob.submit(xml, self.collector)
        return sub.instance_id

    def swaths(self) -> dict[date, tuple[int, bytes]]:
        return {s.month: (s.pk, bytes(s.geom)) for s in MonthlySwath.objects.filter(area_id=self.area.pk)}

    def periods(self) -> dict[tuple[str, date], tuple[int, bytes]]:
        return {
            (s.period_kind, s.period_start): (s.pk, bytes(s.geom))
            for s in PeriodSwath.objects.filter(area_id=self.area.pk)
        }

    def coverage(self, month: date) -> float:
        row = IndicatorValue.objects.get(
            area=self.area, zone_id=0, indicator="coverage.area", period_kind="M", period_start=month
        )
        return row.value

    def test_a_second_full_recomputation_keeps_the_swaths(self) -> None:
        swaths, periods, values = self.swaths(), self.periods(), snapshot()
        self.assertEqual(set(swaths), {MAY, JUNE})
        self.assertEqual(set(periods), {("Q", date(2024, 4, 1)), ("Y", date(2024, 1, 1))})
        self.assertEqual(MonthlySwath.objects.get(month=MAY).segment_count, 1)
        self.assertEqual(PeriodSwath.objects.get(period_kind="Y").segment_count, 2)
        compute.compute_full()
        self.assertEqual(self.swaths(), swaths)
        self.assertEqual(self.periods(), periods)
        self.assertEqual(snapshot(), values)
        # One area from a month on, as the nightly task may: the same.
        compute.compute_full([self.area.pk], since=JUNE)
        self.assertEqual(self.swaths(), swaths)
        self.assertEqual(self.periods(), periods)
        self.assertEqual(snapshot(), values)

    def test_a_swath_stored_without_its_fingerprint_is_buffered_again(self) -> None:
        swaths, values = self.swaths(), snapshot()
        MonthlySwath.objects.filter(month=MAY).update(segment_count=0, segment_id_sum=0, segment_id_max=0)
        compute.compute_full()
        now = self.swaths()
        self.assertNotEqual(now[MAY][0], swaths[MAY][0])
        self.assertEqual(now[JUNE], swaths[JUNE])
        self.assertEqual(snapshot(), values)

    def test_an_edited_track_changes_its_month_only(self) -> None:
        swaths, periods, may = self.swaths(), self.periods(), self.coverage(MAY)
        # Re-submitted with the track cut short: May's swath and coverage shrink.
        edit = self.patrol("2024-05-14", self.SHORTER, edits=self.may)
        self.assertFalse(DirtyKey.objects.exists())
        edited, edited_periods = self.swaths(), self.periods()
        self.assertNotEqual(edited[MAY][0], swaths[MAY][0])
        self.assertEqual(edited[JUNE], swaths[JUNE])
        # Its quarter and year are merged again, from the new May and the kept June.
        self.assertEqual(set(edited_periods), set(periods))
        for key in periods:
            self.assertNotEqual(edited_periods[key], periods[key])
        self.assertLess(self.coverage(MAY), may * 0.6)
        # A full recomputation agrees, buffering and merging nothing again.
        values = snapshot()
        compute.compute_full()
        self.assertEqual(self.swaths(), edited)
        self.assertEqual(self.periods(), edited_periods)
        self.assertEqual(snapshot(), values)
        # Re-submitted with the same track: new segments, hence a new swath; the same value.
        self.patrol("2024-05-14", self.SHORTER, edits=edit)
        self.assertNotEqual(self.swaths()[MAY][0], edited[MAY][0])
        self.assertEqual(snapshot(), values)

    def test_a_month_without_tracks_loses_its_swath(self) -> None:
        june = self.swaths()[JUNE]
        root = Submission.objects.get(instance_id=self.may)
        delete_records(root.pk)
        with self.captureOnCommitCallbacks(execute=True):
            incremental.after_submission(root, b"")
        self.assertEqual(self.swaths(), {JUNE: june})
        self.assertFalse(IndicatorValue.objects.filter(period_kind="M", period_start=MAY).exists())
        values = snapshot()
        compute.compute_full()
        self.assertEqual(self.swaths(), {JUNE: june})
        self.assertEqual(snapshot(), values)

    def test_a_full_recomputation_drops_the_swaths_of_months_without_tracks(self) -> None:
        june = self.swaths()[JUNE]
        # A month whose records went while nothing kept the indicators current, and a
        # swath left over in a year without records.
        Patrol.objects.filter(root_submission__instance_id=self.may).delete()
        MonthlySwath.objects.create(
            area_id=self.area.pk,
            month=date(2021, 3, 1),
            srid=32755,
            geom=b"",
            segment_count=1,
            segment_id_sum=1,
            segment_id_max=1,
        )
        compute.compute_full()
        self.assertEqual(self.swaths(), {JUNE: june})


def cell_snapshot() -> dict[tuple, tuple]:
    return {
        (c.area_id, c.cell_id, c.period_kind, c.period_start): (c.km, c.leg_days, c.records)
        for c in CellFigure.objects.all()
    }


@unittest.skipUnless(connection.vendor == "postgresql", "staged in temporary tables on PostgreSQL only")
class FullRecomputationMergesTest(TestCase):
    """A full computation from the first record is staged and merged (compute._stage,
    _merge): rows whose values are the same are left as they are (same ids), changed and
    new ones written, those of records gone deleted; the result is that of a computation
    into empty tables."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.areas = two_areas()
        cls.subs = [cls.patrol(area, date(2024, month, 3), month) for area in cls.areas for month in (5, 6)]

    @staticmethod
    def patrol(area: Any, day: date, month: int) -> Submission:
        sub = ib.submission()
        west, south = area.boundary.extent[:2]
        track = [(west + 0.005 * month, south + 0.01), (west + 0.005 * month + 0.02, south + 0.03)]
        legday = ib.leg_day(area, day, km=3.0 + month, sub=sub, track=track)
        obs = ib.observation(
            area, day, taxon="casuarius_casuarius", individuals=month, sub=sub, point=track[0]
        )
        Observation.objects.filter(pk=obs.pk).update(leg_day=legday)
        return sub

    def ids(self) -> dict[tuple, int]:
        return {
            (v.area_id, v.zone_id, v.period_kind, v.period_start, v.indicator, v.subject): v.pk
            for v in IndicatorValue.objects.all()
        }

    def test_unchanged_values_are_left_as_they_are(self) -> None:
        compute.compute_full()
        ids, cells = self.ids(), {c.pk for c in CellFigure.objects.all()}
        self.assertTrue(ids and cells)
        compute.compute_full()
        self.assertEqual(self.ids(), ids)
        self.assertEqual({c.pk for c in CellFigure.objects.all()}, cells)

    def test_changed_new_and_gone_values_are_replaced(self) -> None:
        compute.compute_full()
        ids = self.ids()
        # June's patrol of the first area gone, May's count there changed, one more in July.
        Patrol.objects.filter(root_submission=self.subs[1]).delete()
        Observation.objects.filter(root_submission=self.subs[1]).delete()
        Observation.objects.filter(root_submission=self.subs[0]).update(count=9)
        self.patrol(self.areas[0], date(2024, 7, 3), 7)
        compute.compute_full()
        merged, merged_cells = snapshot(), cell_snapshot()
        after = self.ids()
        # The second area's values did not change: not rewritten.
        second = [key for key in ids if key[0] == self.areas[1].pk]
        self.assertTrue(second)
        self.assertEqual([after[key] for key in second], [ids[key] for key in second])
        self.assertNotIn((self.areas[0].pk, 0, "M", JUNE, "effort.km", ""), after)
        self.assertIn((self.areas[0].pk, 0, "M", date(2024, 7, 1), "effort.km", ""), after)
        IndicatorValue.objects.all().delete()
        CellFigure.objects.all().delete()
        compute.compute_full()
        self.assertEqual(merged, snapshot())
        self.assertEqual(merged_cells, cell_snapshot())


class SumsInAnyOrderTest(TestCase):
    """Sums of measurements do not depend on the order a plan reads their rows in: 0.1,
    0.2 and 0.3 km make 0.6 km (added up as floating-point numbers, most orders give
    0.6000000000000001), for the update following an index and for a full computation
    reading the table alike."""

    def test_three_leg_days_make_six_tenths(self) -> None:
        area = make_area()
        for day, km in ((3, 0.3), (1, 0.1), (2, 0.2)):  # written in another order than their days'
            sub = ib.submission()
            ib.leg_day(
                area, date(2024, 5, day), km=km, field_hours=km, patrol_hours=km, person_days=km, sub=sub
            )
            incremental.after_submission(sub, b"")
        incremental.update()
        values = snapshot()
        for code in ("effort.km", "effort.field_hours", "effort.patrol_hours", "effort.person_days"):
            for kind, start in (("M", MAY), ("Q", date(2024, 4, 1)), ("Y", date(2024, 1, 1))):
                self.assertEqual(values[(area.pk, 0, 0, kind, start, code, "")][0], 0.6, (code, kind))
        IndicatorValue.objects.all().delete()
        compute.compute_full()
        self.assertEqual(values, snapshot())
