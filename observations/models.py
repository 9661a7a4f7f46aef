"""Field records: patrols and their effort, observations of the four verticals, METT
assessments and budget returns.

Every record is made from one submission (observations.records.record_submission) and
carries it twice: `submission`, the version it was read from, and `root_submission`, the
first version of the record, which stays the same across edits. An edit replaces all the
records of its root; reprocessing a submission replaces its own. Nothing here is edited by
hand: a correction is an edit of the submission on the phone or in the web form.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q

from accounts.generalisation import Sensitivity
from odk_forms.models import FormVersion, Submission
from protected_areas.models import ProtectedArea, Zone

# --- Reference data --------------------------------------------------------------------


class Vertical(models.TextChoices):
    ILLICIT = "illicit", "Illicit activity"
    RESOURCE_USE = "resource_use", "Natural-resource use"
    BIODIVERSITY = "biodiversity", "Biodiversity"
    OTHER = "other", "Other"


class Category(models.Model):
    """A node of the observation category tree (observations.categories holds the data).

    The slug is the materialised path (`human_activity.weapons.snare`), so a subtree is a
    prefix query: `Category.subtree_q("human_activity.weapons")`.
    """

    slug = models.CharField(max_length=128, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", to_field="slug"
    )
    depth = models.PositiveSmallIntegerField(default=0)
    vertical = models.CharField(max_length=16, choices=Vertical.choices)
    label_en = models.CharField("label (English)", max_length=128)
    label_tpi = models.CharField("label (Tok Pisin)", max_length=128, blank=True)
    earthranger_event_type = models.CharField(max_length=64, blank=True)
    # Never deleted: observations keep pointing to retired categories.
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.slug

    @staticmethod
    def subtree_q(slug: str, field: str = "category_id") -> Q:
        """Records whose category is `slug` or below it (not `slugger`)."""
        return Q(**{field: slug}) | Q(**{f"{field}__startswith": slug + "."})


class IUCNStatus(models.TextChoices):
    EX = "EX", "Extinct"
    EW = "EW", "Extinct in the wild"
    CR = "CR", "Critically endangered"
    EN = "EN", "Endangered"
    VU = "VU", "Vulnerable"
    NT = "NT", "Near threatened"
    LC = "LC", "Least concern"
    DD = "DD", "Data deficient"
    NE = "NE", "Not evaluated"


THREATENED = (IUCNStatus.CR, IUCNStatus.EN, IUCNStatus.VU)


class Taxon(models.Model):
    slug = models.SlugField(max_length=128, unique=True)
    scientific_name = models.CharField(max_length=255, unique=True)
    common_name = models.CharField("common name (English)", max_length=255, blank=True)
    # Names in Tok Pisin and local languages, as rangers say them.
    local_names = models.JSONField(default=list, blank=True)
    rank = models.CharField(max_length=32, default="species")
    kingdom = models.CharField(max_length=32, default="Animalia")
    taxon_class = models.CharField("class", max_length=64, blank=True)
    family = models.CharField(max_length=64, blank=True)
    iucn_category = models.CharField(
        "IUCN Red List category", max_length=2, choices=IUCNStatus.choices, default=IUCNStatus.NE
    )
    sensitivity = models.PositiveSmallIntegerField(choices=Sensitivity.choices, default=Sensitivity.OPEN)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scientific_name"]
        verbose_name_plural = "taxa"

    def __str__(self) -> str:
        return self.scientific_name

    @property
    def is_threatened(self) -> bool:
        return self.iucn_category in THREATENED


class SensitivityRule(models.Model):
    """A taxon's sensitivity raised in one area, or nationally (ALA's per-zone rules): a
    species common in one area may be critical in another. A rule only ever raises the
    taxon's own level (accounts.generalisation.strictest): one below it changes nothing.
    observations.sensitivity applies the rules."""

    taxon = models.ForeignKey(Taxon, on_delete=models.CASCADE, related_name="sensitivity_rules")
    area = models.ForeignKey(
        ProtectedArea, null=True, blank=True, on_delete=models.CASCADE, related_name="sensitivity_rules"
    )
    national = models.BooleanField(default=False, help_text="The rule holds in every area.")
    level = models.PositiveSmallIntegerField(choices=Sensitivity.choices)
    reason = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["taxon", "area"], name="sensitivityrule_unique_area"),
            models.UniqueConstraint(
                fields=["taxon"], condition=Q(national=True), name="sensitivityrule_unique_national"
            ),
            models.CheckConstraint(
                condition=Q(area__isnull=False, national=False) | Q(area__isnull=True, national=True),
                name="sensitivityrule_area_xor_national",
            ),
        ]

    def __str__(self) -> str:
        where = self.area if self.area_id else "national"
        return f"{self.taxon}: {Sensitivity(self.level).label} ({where})"


# --- Records made from submissions -----------------------------------------------------


class SubmissionRecord(models.Model):
    """What every record made from a submission carries."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    # The first version of the record: edits replace every record of the same root.
    root_submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    form_version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="+")
    # Where in the instance the record came from ("" for the root, "obs[3]"), so a record
    # can be found again in the XML and records keep the form's order.
    instance_path = models.CharField(max_length=255, blank=True)

    class Meta:
        abstract = True


class Transport(models.TextChoices):
    FOOT = "foot", "On foot"
    VEHICLE = "vehicle", "Vehicle"
    MOTORBIKE = "motorbike", "Motorbike"
    BOAT = "boat", "Boat"
    AIR = "air", "Aircraft"


class Patrol(SubmissionRecord):
    area = models.ForeignKey(
        ProtectedArea, null=True, blank=True, on_delete=models.SET_NULL, related_name="patrols"
    )
    patrol_id = models.CharField("patrol number", max_length=64, blank=True)
    station = models.CharField(max_length=128, blank=True)
    team = models.CharField(max_length=128, blank=True)
    objective = models.TextField(blank=True)
    armed = models.BooleanField(null=True, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["area", "start"], name="patrol_area_start_idx"),
            models.Index(fields=["root_submission"], name="patrol_root_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"Patrol {self.patrol_id or self.pk} ({self.start:%Y-%m-%d})"
            if self.start
            else f"Patrol {self.pk}"
        )


class PatrolLeg(models.Model):
    """A part of a patrol with one transport, mandate and team (SMART's patrol leg)."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="legs")
    number = models.PositiveSmallIntegerField(default=1)
    transport = models.CharField(max_length=16, choices=Transport.choices, blank=True)
    mandate = models.CharField(max_length=64, blank=True)
    leader = models.CharField(max_length=128, blank=True)
    members = models.JSONField(default=list, blank=True)
    # People on the leg: the members listed (with the leader), or the number answered.
    member_count = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["patrol", "number"]
        constraints = [models.UniqueConstraint(fields=["patrol", "number"], name="patrolleg_unique_number")]

    def __str__(self) -> str:
        return f"{self.patrol} leg {self.number}"


class PatrolLegDay(models.Model):
    """One day of one leg: the unit of effort (SMART's leg-day).

    Times are UTC; `day` is the calendar day in the area's timezone. Effort follows SMART's
    definitions: patrol hours = end − start, field hours = patrol hours − rest, person-days =
    members (one day each), distance = geodesic length of the track.
    """

    leg = models.ForeignKey(PatrolLeg, on_delete=models.CASCADE, related_name="days")
    # Denormalised from the leg, for effort queries that group by patrol or area.
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    rest_minutes = models.FloatField(default=0)
    track = models.MultiLineStringField(srid=4326, null=True, blank=True)
    distance_km = models.FloatField(default=0)
    patrol_hours = models.FloatField(default=0)
    field_hours = models.FloatField(default=0)
    members = models.PositiveSmallIntegerField(default=1)
    person_days = models.FloatField(default=0)

    class Meta:
        ordering = ["patrol", "start", "id"]
        indexes = [models.Index(fields=["day"], name="legday_day_idx")]

    def __str__(self) -> str:
        return f"{self.patrol} {self.day}"


class TrackSegment(models.Model):
    """The part of a leg-day's track inside one area, or one zone of it, clipped in the
    database.

    For each area the track crosses there is one row with `zone` empty: the whole length in
    the area. Each zone crossed adds a row of its own. Zones may overlap (a patrol sector
    across a core zone), so per-area effort sums the rows with no zone and per-zone effort
    the rows of that zone; never add the two.
    """

    leg_day = models.ForeignKey(PatrolLegDay, on_delete=models.CASCADE, related_name="segments")
    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="+")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    distance_km = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["leg_day", "area"], condition=Q(zone=None), name="tracksegment_unique_area"
            ),
            models.UniqueConstraint(
                fields=["leg_day", "zone"], condition=Q(zone__isnull=False), name="tracksegment_unique_zone"
            ),
        ]
        indexes = [models.Index(fields=["area", "zone"], name="tracksegment_area_zone_idx")]

    def __str__(self) -> str:
        return f"{self.leg_day}: {self.distance_km:.3f} km"


class Observation(SubmissionRecord):
    """Something seen at a place and time: SMART's waypoint observation, EarthRanger's event."""

    patrol = models.ForeignKey(
        Patrol, null=True, blank=True, on_delete=models.CASCADE, related_name="observations"
    )
    # Null for independent incident reports and for times outside every day of the patrol.
    leg_day = models.ForeignKey(
        PatrolLegDay, null=True, blank=True, on_delete=models.SET_NULL, related_name="observations"
    )
    # Null when no fix was taken or the fix was junk (a QA flag says which).
    location = models.PointField(srid=4326, null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    time = models.DateTimeField(null=True, blank=True)
    area = models.ForeignKey(
        ProtectedArea, null=True, blank=True, on_delete=models.SET_NULL, related_name="observations"
    )
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="observations"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, to_field="slug", db_column="category", related_name="+"
    )
    # Kept so that counts per vertical need no join to Category.
    vertical = models.CharField(max_length=16, choices=Vertical.choices)
    count = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True)
    observer = models.CharField(max_length=128, blank=True)
    # Attachment names (odk_forms.Attachment.name of the same submission).
    photos = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["time", "id"]
        indexes = [
            models.Index(fields=["area", "time"], name="observation_area_time_idx"),
            models.Index(fields=["category", "time"], name="observation_category_time_idx"),
            models.Index(fields=["vertical", "area", "time"], name="observation_vertical_idx"),
            models.Index(fields=["zone", "time"], name="observation_zone_time_idx"),
            models.Index(fields=["root_submission"], name="observation_root_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} at {self.time:%Y-%m-%d %H:%M}" if self.time else str(self.category_id)


class ActionTaken(models.TextChoices):
    OBSERVED_ONLY = "observed_only", "Observed only"
    UNSUCCESSFUL_PURSUIT = "unsuccessful_pursuit", "Unsuccessful pursuit"
    ARRESTED = "arrested", "Arrested"
    VERBAL_WARNING = "verbal_warning", "Verbal warning"
    WRITTEN_WARNING = "written_warning", "Written warning"
    CONFISCATED = "confiscated", "Items confiscated"
    DESTROYED = "destroyed", "Items destroyed or removed"
    REPORTED = "reported", "Reported to police"


class IllicitActivity(models.Model):
    observation = models.OneToOneField(
        Observation, on_delete=models.CASCADE, primary_key=True, related_name="illicit"
    )
    action_taken = models.CharField(max_length=32, choices=ActionTaken.choices, blank=True)
    suspects = models.PositiveIntegerField(null=True, blank=True)
    # Personal data: for law enforcement only, never in public outputs.
    suspect_names = models.TextField(blank=True)
    infraction = models.CharField(max_length=64, blank=True)
    threat = models.CharField("IUCN-CMP threat", max_length=64, blank=True)
    items = models.TextField("items seized or destroyed", blank=True)

    class Meta:
        verbose_name_plural = "illicit activities"


class ResourceKind(models.TextChoices):
    TIMBER = "timber", "Timber"
    FIREWOOD = "firewood", "Firewood"
    NTFP = "ntfp", "Non-timber forest products"
    FISH = "fish", "Fish and marine products"
    BUSHMEAT = "bushmeat", "Bushmeat"
    CLEARING = "clearing", "Land clearing"
    MINERALS = "minerals", "Minerals"
    OTHER = "other", "Other"


class ResourceUnit(models.TextChoices):
    LOGS = "logs", "logs"
    M3 = "m3", "m³"
    KG = "kg", "kg"
    HA = "ha", "ha"
    ITEMS = "items", "items"
    BUNDLES = "bundles", "bundles"
    LITRES = "litres", "litres"


class Purpose(models.TextChoices):
    SUBSISTENCE = "subsistence", "Subsistence"
    COMMERCIAL = "commercial", "Commercial"
    CUSTOMARY = "customary", "Customary or ceremonial"
    UNKNOWN = "unknown", "Unknown"


class ResourceUsers(models.TextChoices):
    COMMUNITY = "community", "Local community"
    OUTSIDERS = "outsiders", "Outsiders"
    MIXED = "mixed", "Both"
    UNKNOWN = "unknown", "Unknown"


class ResourceUse(models.Model):
    observation = models.OneToOneField(
        Observation, on_delete=models.CASCADE, primary_key=True, related_name="resource_use"
    )
    kind = models.CharField(max_length=16, choices=ResourceKind.choices, blank=True)
    quantity = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, choices=ResourceUnit.choices, blank=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, blank=True)
    permitted = models.BooleanField(null=True, blank=True)
    users = models.CharField(max_length=16, choices=ResourceUsers.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "unit"], name="resourceuse_kind_unit_idx")]


class Evidence(models.TextChoices):
    DIRECT = "direct", "Seen"
    SIGN = "sign", "Sign"
    TRACK = "track", "Tracks"
    DUNG = "dung", "Dung"
    CALL = "call", "Call heard"
    CARCASS = "carcass", "Carcass"
    CAMERA_TRAP = "camera_trap", "Camera trap"
    NEST = "nest", "Nest"
    OTHER = "other", "Other"


class SpeciesObservation(models.Model):
    observation = models.OneToOneField(
        Observation, on_delete=models.CASCADE, primary_key=True, related_name="species"
    )
    taxon = models.ForeignKey(Taxon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The answer as sent, kept when it names no known taxon (a QA flag says so).
    taxon_name = models.CharField(max_length=255, blank=True)
    adult_males = models.PositiveIntegerField(null=True, blank=True)
    adult_females = models.PositiveIntegerField(null=True, blank=True)
    juveniles = models.PositiveIntegerField(null=True, blank=True)
    unknown_age_sex = models.PositiveIntegerField(null=True, blank=True)
    # Sum of the counts by age and sex, or the observation's count: Darwin Core individualCount.
    individual_count = models.PositiveIntegerField(null=True, blank=True)
    evidence = models.CharField(max_length=16, choices=Evidence.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["taxon"], name="speciesobs_taxon_idx")]


class METTElement(models.TextChoices):
    """The six elements of the IUCN-WCPA framework (Hockings et al. 2006)."""

    CONTEXT = "context", "Context"
    PLANNING = "planning", "Planning"
    INPUTS = "inputs", "Inputs"
    PROCESS = "process", "Process"
    OUTPUTS = "outputs", "Outputs"
    OUTCOMES = "outcomes", "Outcomes"


class METTAssessment(SubmissionRecord):
    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="mett_assessments")
    year = models.PositiveSmallIntegerField()
    assessed_on = models.DateField(null=True, blank=True)
    assessors = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    # Sum of the applicable scores (bonus points included) and the maximum they could reach:
    # METT-3's score is total ÷ maximum, N/A questions left out of both.
    score_total = models.PositiveSmallIntegerField(default=0)
    score_max = models.PositiveSmallIntegerField(default=0)
    questions_answered = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["area", "-year"]
        indexes = [
            models.Index(fields=["area", "year"], name="mett_area_year_idx"),
            models.Index(fields=["root_submission"], name="mett_root_idx"),
        ]

    def __str__(self) -> str:
        return f"METT {self.area} {self.year}"

    @property
    def score_percent(self) -> float | None:
        return 100.0 * self.score_total / self.score_max if self.score_max else None


class METTScore(models.Model):
    assessment = models.ForeignKey(METTAssessment, on_delete=models.CASCADE, related_name="scores")
    question = models.CharField(max_length=8)  # q01..q30, bonus q07a..q30c
    element = models.CharField(max_length=16, choices=METTElement.choices)
    is_bonus = models.BooleanField(default=False)
    # Null: not applicable.
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)

    class Meta:
        ordering = ["assessment", "question"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "question"], name="mettscore_unique_question"),
            models.CheckConstraint(condition=Q(score__lte=3), name="mettscore_0_to_3"),
        ]


class BudgetReturn(SubmissionRecord):
    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="budget_returns")
    fiscal_year = models.PositiveSmallIntegerField()
    currency = models.CharField(max_length=3, default="PGK")
    staff_count = models.PositiveIntegerField(null=True, blank=True)
    ranger_count = models.PositiveIntegerField(null=True, blank=True)
    # Funding needed for basic and optimal management (Financial Sustainability Scorecard I).
    need_basic = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    need_optimal = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["area", "-fiscal_year"]
        indexes = [
            models.Index(fields=["area", "fiscal_year"], name="budget_area_year_idx"),
            models.Index(fields=["root_submission"], name="budget_root_idx"),
        ]

    def __str__(self) -> str:
        return f"Budget {self.area} {self.fiscal_year}"


class BudgetLineKind(models.TextChoices):
    INCOME = "income", "Income by source"
    SPEND = "spend", "Spending by category"


class BudgetLine(models.Model):
    budget = models.ForeignKey(BudgetReturn, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=BudgetLineKind.choices)
    # income: government, donor, own_revenue, other; spend: staff, patrol_operations, ...
    category = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["budget", "kind", "category"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "kind", "category"], name="budgetline_unique_category"),
        ]


class QAFlagCode(models.TextChoices):
    JUNK_FIX = "junk_fix", "GPS fix at a known junk position (0,0 / 1,1 / 180,90)"
    BAD_FIX = "bad_fix", "GPS fix unreadable or out of range"
    OUTSIDE_AREAS = "outside_areas", "Location outside every protected area"
    AREA_NOT_PERMITTED = "area_not_permitted", "Location in an area where the sender may not send data"
    NO_LOCATION = "no_location", "No location"
    IMPOSSIBLE_SPEED = "impossible_speed", "Speed impossible for the transport"
    SHORT_TRACK = "short_track", "Track with fewer than two points"
    NO_TRACK = "no_track", "Patrol day without a track"
    FUTURE_TIME = "future_time", "Time after the submission was received"
    ANCIENT_TIME = "ancient_time", "Time before 2000"
    END_BEFORE_START = "end_before_start", "End before start"
    OUTSIDE_PATROL_TIME = "outside_patrol_time", "Observation time outside the patrol's days"
    UNKNOWN_CODE = "unknown_code", "Answer is not a known code"
    UNKNOWN_TAXON = "unknown_taxon", "Taxon not in the species list"
    BAD_VALUE = "bad_value", "Answer could not be read"


class QAFlag(models.Model):
    """A doubt about a record, raised at ingest. Records are kept as sent; the flag says
    what to check, so that nothing is dropped silently."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    root_submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=32, choices=QAFlagCode.choices)
    detail = models.TextField(blank=True)
    patrol = models.ForeignKey(
        Patrol, null=True, blank=True, on_delete=models.CASCADE, related_name="qa_flags"
    )
    leg_day = models.ForeignKey(
        PatrolLegDay, null=True, blank=True, on_delete=models.CASCADE, related_name="qa_flags"
    )
    observation = models.ForeignKey(
        Observation, null=True, blank=True, on_delete=models.CASCADE, related_name="qa_flags"
    )
    # Where in the instance the doubtful answer is.
    instance_path = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "id"]
        indexes = [
            models.Index(fields=["code", "created"], name="qaflag_code_idx"),
            models.Index(fields=["root_submission"], name="qaflag_root_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"
