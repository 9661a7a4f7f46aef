"""Stored indicators: one long table of values, the equal-area grid they are mapped on,
and the bookkeeping that keeps them current (dirty keys, what each submission touched).

Nothing here is written by hand: indicators.compute fills IndicatorValue with SQL, and
indicators.incremental keeps DirtyKey and Footprint.
"""

from __future__ import annotations

from django.contrib.gis.db import models

from observations.models import TrackSegment
from protected_areas.models import ProtectedArea

# Keys standing for "none" in IndicatorValue: NULL is never equal to NULL in a unique
# constraint (PostgreSQL and SQLite alike), so "no zone" and "no cell" are 0, not NULL.
NO_ZONE = 0
NO_CELL = 0

# Grid cells are squares of this many metres in EPSG:6933 (World Cylindrical Equal Area):
# 1 km, or 5 km for an area larger than LARGE_AREA_KM2, to keep an area's grid to a few
# thousand cells.
EQUAL_AREA_SRID = 6933
CELL_M = 1000
LARGE_CELL_M = 5000
LARGE_AREA_KM2 = 5000.0


class PeriodKind(models.TextChoices):
    MONTH = "M", "Month"
    QUARTER = "Q", "Quarter"
    YEAR = "Y", "Year"


class GridCell(models.Model):
    """One square of an area's grid, in EPSG:6933: column `ix` and row `iy` count cells of
    `size_m` from the projection's origin, so a point's cell is floor(x / size_m),
    floor(y / size_m) with no spatial join. Only cells meeting the area's boundary exist."""

    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="+")
    size_m = models.PositiveIntegerField()
    ix = models.IntegerField()
    iy = models.IntegerField()
    geom = models.PolygonField(srid=EQUAL_AREA_SRID)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "size_m", "ix", "iy"], name="gridcell_unique_square"),
        ]

    def __str__(self) -> str:
        return f"{self.area_id}: {self.ix},{self.iy} ({self.size_m} m)"


class IndicatorValue(models.Model):
    """One figure: an indicator of one subject, for an area (or a zone of it, or a grid
    cell), over one month, quarter or year of the area's local calendar.

    `value` is what is shown; `numerator`, `denominator` and `effort` are what it was
    computed from, so a rate can be recomputed, summed into a longer period and shown
    with the effort beside it. `value` NULL is "no data" (a period without effort has no
    encounter rate), never 0. The codes are listed in indicators.compute.INDICATORS.

    Encounter rates (cpue.*) are not stored: IndicatorRow derives them from the counts and
    the effort stored here. Nor are the figures of grid cells: they are CellFigure's, one
    row per cell and period, which IndicatorRow presents as rows of this shape (cell_id is
    NO_CELL in every stored row). Readers read IndicatorRow.
    """

    # No index of its own: the unique key starts with the area. No database constraint:
    # derived rows written only by indicators.compute from existing areas (a deferred check
    # of each of millions of rows at commit cost a tenth of a full computation); Django
    # still deletes an area's values with it.
    area = models.ForeignKey(
        ProtectedArea, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # Zone id or NO_ZONE; grid cell id or NO_CELL (not foreign keys: 0 is a key of its own).
    zone_id = models.IntegerField(default=NO_ZONE)
    cell_id = models.IntegerField(default=NO_CELL)
    period_kind = models.CharField(max_length=1, choices=PeriodKind.choices)
    period_start = models.DateField()
    indicator = models.CharField(max_length=48)
    # What the indicator is about: "" for the area as a whole, "category:<slug>",
    # "taxon:<slug>", "vertical:<code>", "iucn:<code>", "element:<code>", "currency:<ISO>".
    subject = models.CharField(max_length=160, default="", blank=True)
    value = models.FloatField(null=True)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    lower = models.FloatField(null=True)
    upper = models.FloatField(null=True)
    effort = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                # Period first: replacing an area's periods finds their rows by this prefix.
                fields=["area", "period_kind", "period_start", "zone_id", "cell_id", "indicator", "subject"],
                name="indicatorvalue_unique_key",
            ),
        ]
        indexes = [
            # The area last: a computation probing an area's periods finds them by either
            # index (with the area in the first only, a planner that takes the table for
            # small reads every area's rows of a period for each of them).
            models.Index(
                fields=["indicator", "period_kind", "period_start", "area"], name="indicatorvalue_code_idx"
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.area_id}/{self.zone_id}/{self.cell_id}"
        return f"{self.indicator} {self.subject} {where} {self.period_start}"


class CellFigure(models.Model):
    """The figures of one grid cell over one month, quarter or year, in one row: the effort
    walked in it (NULL: no effort) and its records, all verticals together and per
    vertical. IndicatorRow presents each as the long rows readers read (effort.km,
    effort.patrol_hours, effort.field_hours, effort.person_days, effort.leg_days,
    cell.records per subject, and the encounter rate cpue.records.km per subject): a
    national grid has millions of cell-periods, and one row for each instead of fifteen is
    what keeps a full computation's writing short."""

    # No constraint nor index of its own, as IndicatorValue.area.
    area = models.ForeignKey(
        ProtectedArea, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    cell_id = models.IntegerField()
    period_kind = models.CharField(max_length=1, choices=PeriodKind.choices)
    period_start = models.DateField()
    km = models.FloatField(null=True)
    patrol_hours = models.FloatField(null=True)
    field_hours = models.FloatField(null=True)
    person_days = models.FloatField(null=True)
    leg_days = models.IntegerField(null=True)
    records = models.IntegerField(default=0)
    records_illicit = models.IntegerField(default=0)
    records_resource_use = models.IntegerField(default=0)
    records_biodiversity = models.IntegerField(default=0)
    records_other = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "period_kind", "period_start", "cell_id"], name="cellfigure_unique_key"
            ),
            # Lets PostgreSQL leave this table out of IndicatorRow's branches when a reader
            # asks for the rows without a cell (constraint exclusion of UNION ALL members).
            models.CheckConstraint(condition=models.Q(cell_id__gt=0), name="cellfigure_has_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.area_id}/{self.cell_id} {self.period_kind} {self.period_start}"


class TrackPiece(models.Model):
    """The part of a leg-day's track inside one grid cell of an area: the track clipped to
    the area (TrackSegment with no zone) and then to the cell, its geodesic length in km.

    Cut once per TrackSegment and kept: a segment is never updated in place (an edit of
    the patrol deletes its segments and writes new ones, deleting their pieces with them),
    so the pieces of an existing segment are always those of its current track. A
    rebuilt grid deletes the pieces of its area (grid.build_grid). Computations cut the
    segments that have no pieces yet (indicators.coverage.cut_tracks)."""

    # No database constraint: millions of rows written in one statement; Django deletes
    # a segment's pieces with it.
    segment = models.ForeignKey(TrackSegment, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    cell_id = models.IntegerField()
    km = models.FloatField()

    def __str__(self) -> str:
        return f"segment {self.segment_id}, cell {self.cell_id}: {self.km:.3f} km"


class IndicatorRow(models.Model):
    """What readers read: a database view (indicators_indicatorrow, migrations 0002, 0003,
    0006) of every stored IndicatorValue; the encounter rates (cpue.*) derived from them:
    count ÷ effort × scale with Garwood's bounds scaled alike, a row for every count.records
    and count.individuals row and effort unit, value NULL where there is no effort; and
    every CellFigure as long rows: effort.* where km was walked in the cell, cell.records
    where something was recorded (subject "" and vertical:<code>), and cpue.records.km for
    every cell with km walked, for all records and for each vertical, 0 with its upper
    bound where nothing was seen. A derived row's id is −(the count row's id × 8 + unit
    1–3); a cell row's −(2^56 + the CellFigure id × 16 + 0–14)."""

    id = models.BigIntegerField(primary_key=True)
    area = models.ForeignKey(
        ProtectedArea, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    zone_id = models.IntegerField()
    cell_id = models.IntegerField()
    period_kind = models.CharField(max_length=1, choices=PeriodKind.choices)
    period_start = models.DateField()
    indicator = models.CharField(max_length=48)
    subject = models.CharField(max_length=160)
    value = models.FloatField(null=True)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    lower = models.FloatField(null=True)
    upper = models.FloatField(null=True)
    effort = models.FloatField(null=True)

    class Meta:
        managed = False
        db_table = "indicators_indicatorrow"

    def __str__(self) -> str:
        where = f"{self.area_id}/{self.zone_id}/{self.cell_id}"
        return f"{self.indicator} {self.subject} {where} {self.period_start}"


class PoissonBound(models.Model):
    """Garwood's exact 95 % Poisson bounds for a count `k` (indicators.formulas
    .poisson_interval), tabulated so that SQL can join rates to their intervals; filled up
    to the largest count a computation needs."""

    k = models.IntegerField(primary_key=True)
    lower = models.FloatField()
    upper = models.FloatField()


class ComputeScope(models.Model):
    """The periods one computation replaces, joined by its SQL (rows of one `job` only)."""

    job = models.BigIntegerField()
    area_id = models.IntegerField()
    period_kind = models.CharField(max_length=1)
    period_start = models.DateField()
    period_end = models.DateField()  # last day, inclusive

    class Meta:
        indexes = [
            models.Index(
                fields=["job", "area_id", "period_start", "period_end"], name="computescope_job_idx"
            ),
        ]


class DirtyKey(models.Model):
    """An area-month whose records changed since its indicators were computed.

    Marking bumps `generation`; a worker claims keys with a conditional UPDATE (unclaimed,
    or claim older than the lease) and, once done, deletes only those whose generation did
    not move meanwhile: a burst of submissions coalesces into one recomputation, and a
    submission written during one is never lost."""

    area_id = models.IntegerField()
    month = models.DateField()
    generation = models.IntegerField(default=0)
    claimed_by = models.UUIDField(null=True)
    claimed_at = models.DateTimeField(null=True)
    claimed_generation = models.IntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area_id", "month"], name="dirtykey_unique")]


class Footprint(models.Model):
    """The area-months a submission's records counted in at its last processing: an edit
    that moves or removes records dirties the months they left as well."""

    root_submission_id = models.BigIntegerField()
    area_id = models.IntegerField()
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["root_submission_id", "area_id", "month"], name="footprint_unique"
            )
        ]


class Swath(models.Model):
    """A stored patrol swath: its shape in the metric projection `srid` (the UTM zone of the
    area's centre) as WKB, and the fingerprint of the track segments under it (the count,
    the sum and the largest of their ids; MonthlySwath says why they identify the set)."""

    srid = models.IntegerField()
    geom = models.BinaryField()
    segment_count = models.BigIntegerField()
    segment_id_sum = models.BigIntegerField()
    segment_id_max = models.BigIntegerField()

    class Meta:
        abstract = True


class MonthlySwath(Swath):
    """The patrol swath of an area-month (indicators.coverage): its tracks buffered by
    500 m and merged, in the metric projection `srid` (the UTM zone of the area's centre),
    as WKB. Quarters merge the stored months and years the quarters (PeriodSwath), so that
    an update of one month buffers only that month's tracks.

    A swath is a function of its input alone: the projection and the TrackSegment rows of
    the area-month that coverage() buffers (no zone, with a track and a distance; each
    stands for its leg-day's track). A computation keeps a stored swath whose input is
    unchanged and buffers again only the months whose input changed or that had none.

    The set of segments is recognised by `segment_count`, `segment_id_sum` and
    `segment_id_max`: the count, sum and largest of their ids. Segments are never updated
    in place (an edit of a patrol deletes its segments, changes its leg-days and writes
    new segments), and ids come from a sequence (an AUTOINCREMENT key in SQLite), so they
    only grow: every id that joined the set since the swath was stored is larger than every
    id that left it. If the count is the same, as many left as joined, so any change makes
    the sum larger; count and sum identify the set, and the largest id is a further check
    at no cost. A month left with no such segments has no swath: its row is deleted.
    Swaths stored before these columns have 0 segments and are rebuilt once."""

    area_id = models.IntegerField()
    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area_id", "month"], name="monthlyswath_unique")]


class PeriodSwath(Swath):
    """The patrol swath of an area's quarter or year (indicators.coverage): the union of its
    months' stored swaths (MonthlySwath) for a quarter, of its quarters' for a year, in the
    same projection, as WKB; kept while the segments under it are the same.

    Its fingerprint adds up its months' (MonthlySwath): the months partition the segments,
    so the total count, the total of the ids and the largest id identify the set under the
    period as a month's identify the month's (ids only grow). A full computation that finds
    every month unchanged merges nothing again."""

    area_id = models.IntegerField()
    period_kind = models.CharField(max_length=1, choices=PeriodKind.choices)
    period_start = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area_id", "period_kind", "period_start"], name="periodswath_unique"
            )
        ]
