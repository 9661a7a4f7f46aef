"""Field records: patrols and their effort, observations of the four verticals, METT
assessments and budget returns.

Every record is made from one submission (observations.records.record_submission) and
carries it twice: `submission`, the version it was read from, and `root_submission`, the
first version of the record, which stays the same across edits. Each record also has a
stable identity, `record_uuid`, unique within its root submission: reprocessing a
submission or an edit of it updates the records with the same (root, record_uuid) in place,
so their primary keys and uuids survive, and removes those whose repeat disappeared.
Nothing here is edited by hand: a correction is an edit of the submission on the phone or
in the web form.

Calendar: every stored day (`PatrolLegDay.day`, `Observation.day`), and every month or
year taken from it, is the calendar of the record's area where it is, in that area's
timezone (ProtectedArea.timezone); see observations.records for how the zone is chosen.
"""

from __future__ import annotations

import uuid

from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
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
    # can be found again in the XML and records keep the form's order. It renumbers when a
    # repeat is removed on the phone: `record_uuid` is the identity, not this.
    instance_path = models.CharField(max_length=255, blank=True)
    # The record's stable identity (Darwin Core occurrenceID, cases and exports point at
    # it): the answer its form maps to `record.uuid` (the standard forms' per-repeat
    # once(uuid())), else uuid5 of the root instanceID and the instance path
    # (observations.records.record_uuid). Unique within the root submission.
    record_uuid = models.UUIDField(default=uuid.uuid4)

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
        constraints = [
            models.UniqueConstraint(fields=["root_submission", "record_uuid"], name="patrol_unique_uuid")
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
    # Stable identity within the patrol: the leg repeat's `record.uuid` answer, or uuid5 of
    # the patrol's uuid and the leg's number.
    record_uuid = models.UUIDField(default=uuid.uuid4)

    class Meta:
        ordering = ["patrol", "number"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "number"], name="patrolleg_unique_number"),
            models.UniqueConstraint(fields=["patrol", "record_uuid"], name="patrolleg_unique_uuid"),
        ]

    def __str__(self) -> str:
        return f"{self.patrol} leg {self.number}"


class PatrolLegDay(models.Model):
    """One day of one leg: the unit of effort (SMART's leg-day).

    Times are UTC; `day` is the calendar day in the area's timezone (the area's local
    calendar: indicators group by it, and by its month and year). Effort follows SMART's
    definitions: patrol hours = end − start, field hours = patrol hours − rest, person-days =
    members (one day each), distance = geodesic length of the track (km). A leg cut into
    days by the clock (no day repeats) never counts a night: each day runs from its first
    to its last recorded time (observations.days).

    Effort per area and zone is on TrackSegment, not here: a day's values belong to the
    patrol as a whole.
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
    # Stable identity within the patrol: the day repeat's `record.uuid` answer, or uuid5 of
    # the leg's uuid and the day's date.
    record_uuid = models.UUIDField(default=uuid.uuid4)

    class Meta:
        ordering = ["patrol", "start", "id"]
        indexes = [models.Index(fields=["day"], name="legday_day_idx")]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "record_uuid"], name="legday_unique_uuid"),
        ]

    def __str__(self) -> str:
        return f"{self.patrol} {self.day}"


class TrackSegment(models.Model):
    """A leg-day's effort inside one area, or one zone of it: the part of its track clipped
    to the boundary in the database, and the hours and person-days that go with it.

    For each area the track crosses there is one row with `zone` empty: the whole length in
    the area. Each zone crossed adds a row of its own. Areas nest and overlap (a park inside
    a World Heritage site), and so may zones, so every area crossed gets its full share:
    per-area effort sums the rows of that area with no zone, per-zone effort the rows of
    that zone; never add areas together, nor an area and its zones.

    Hours and person-days are apportioned by distance, as SMART clips distance: a geotrace
    carries no per-point times, so the share of the day's time spent in an area is taken to
    be the share of its distance walked there (`patrol_hours = day.patrol_hours ×
    distance_km ÷ day.distance_km`, the same for field hours and person-days). The part of a
    track outside every area counts in none.

    A leg-day without a usable track has no distances to share: its whole effort is one row
    on the patrol's area (`has_track` False, distance 0, no zone) and the day carries a
    `no_track` QA flag.
    """

    leg_day = models.ForeignKey(PatrolLegDay, on_delete=models.CASCADE, related_name="segments")
    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="+")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    distance_km = models.FloatField()
    patrol_hours = models.FloatField(default=0)
    field_hours = models.FloatField(default=0)
    person_days = models.FloatField(default=0)
    # False: the day had no track and all its effort was kept on the patrol's area.
    has_track = models.BooleanField(default=True)
    # The leg-day's day, copied so that a month of one area's effort is read by index
    # (indicators). Segments are written anew whenever their patrol is, so it never goes stale.
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["leg_day", "area"], condition=Q(zone=None), name="tracksegment_unique_area"
            ),
            models.UniqueConstraint(
                fields=["leg_day", "zone"], condition=Q(zone__isnull=False), name="tracksegment_unique_zone"
            ),
        ]
        indexes = [
            models.Index(fields=["area", "zone"], name="tracksegment_area_zone_idx"),
            models.Index(fields=["area", "day"], name="tracksegment_area_day_idx"),
        ]

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
    # The day of `time` in the local calendar of the observation's area (its timezone), or
    # in the phone's UTC offset where the area's zone is not known: indicators group
    # observations by this day, its month and its year, never by the UTC date.
    day = models.DateField(null=True, blank=True)
    # The primary area, for display: the smallest containing area. Counting uses
    # ObservationPlace, which holds every area and zone that contains the observation.
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
            models.Index(fields=["area", "day"], name="observation_area_day_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["root_submission", "record_uuid"], name="observation_unique_uuid")
        ]

    def __str__(self) -> str:
        return f"{self.category_id} at {self.time:%Y-%m-%d %H:%M}" if self.time else str(self.category_id)


class ObservationPlace(models.Model):
    """An area, or a zone of it, that contains an observation: the same rule as effort.

    WDPA stacks designations (a national park inside a World Heritage site inside a
    biosphere reserve), so an observation belongs to every area that contains it, one row
    each with `zone` empty, and to every zone, one row each. Counting per area uses the rows
    of that area with no zone, per zone the rows of that zone, exactly as TrackSegment, so
    encounter rates put observations and effort in the same areas. An observation without a
    location has one row for the area it was given (named, its patrol's or its form's).
    """

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="places")
    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="+")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The observation's day, copied so that a month of one area's records is read by index
    # (indicators). Places are written anew whenever their observation is, and with its day
    # whenever that is localised (observations.queries).
    day = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["observation", "area"], condition=Q(zone=None), name="observationplace_unique_area"
            ),
            models.UniqueConstraint(
                fields=["observation", "zone"],
                condition=Q(zone__isnull=False),
                name="observationplace_unique_zone",
            ),
        ]
        indexes = [
            models.Index(fields=["area", "zone"], name="observationplace_area_zone_idx"),
            models.Index(fields=["area", "day"], name="observationplace_area_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.observation_id} in {self.zone_id or self.area_id}"


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
    """The illicit-activity detail of an observation. What rangers did about it is in
    `actions` (several: arrested *and* confiscated), what they seized in `seized_items`; an
    arrest is an action here, never a category record of its own (observations.categories,
    "Counting rules")."""

    observation = models.OneToOneField(
        Observation, on_delete=models.CASCADE, primary_key=True, related_name="illicit"
    )
    suspects = models.PositiveIntegerField(null=True, blank=True)
    # Personal data: for law enforcement only, never in public outputs.
    suspect_names = models.TextField(blank=True)
    infraction = models.CharField(max_length=64, blank=True)
    threat = models.CharField("IUCN-CMP threat", max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "illicit activities"

    @property
    def action_codes(self) -> list[str]:
        """The actions taken, as codes (one query unless prefetched)."""
        return [a.action for a in self.actions.all()]


class IllicitAction(models.Model):
    """One action taken about an illicit activity; an activity has as many as were taken."""

    illicit = models.ForeignKey(IllicitActivity, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=32, choices=ActionTaken.choices)

    class Meta:
        ordering = ["illicit", "action"]
        constraints = [
            models.UniqueConstraint(fields=["illicit", "action"], name="illicitaction_unique_action"),
        ]
        indexes = [models.Index(fields=["action"], name="illicitaction_action_idx")]


class SeizedKind(models.TextChoices):
    SNARE = "snare", "Snares and traps"
    FIREARM = "firearm", "Firearm"
    HOMEMADE_GUN = "homemade_gun", "Homemade gun"
    AMMUNITION = "ammunition", "Ammunition"
    CUTTING_TOOL = "cutting_tool", "Bush knife, axe"
    CHAINSAW = "chainsaw", "Chainsaw"
    FISHING_GEAR = "fishing_gear", "Nets and fishing gear"
    EXPLOSIVE = "explosive", "Explosives"
    BUSHMEAT = "bushmeat", "Bushmeat"
    ANIMAL_PARTS = "animal_parts", "Animal parts"
    LIVE_ANIMAL = "live_animal", "Live animals"
    TIMBER = "timber", "Timber"
    FISH = "fish", "Fish and marine products"
    VEHICLE = "vehicle", "Vehicle"
    BOAT = "boat", "Boat"
    OTHER = "other", "Other"


class SeizedItem(models.Model):
    """Something seized or destroyed: kind, how many and in which unit, for cases and for
    totals (snares removed, kilograms of meat confiscated). Forms that only ask in free text
    (`illicit.items`) give one item of kind `other` with the text as its description."""

    illicit = models.ForeignKey(IllicitActivity, on_delete=models.CASCADE, related_name="seized_items")
    kind = models.CharField(max_length=16, choices=SeizedKind.choices, default=SeizedKind.OTHER)
    quantity = models.FloatField(null=True, blank=True)
    # observations.models.ResourceUnit's codes; "items" for a count.
    unit = models.CharField(max_length=16, blank=True)
    destroyed = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    # Stable identity within the observation (its repeat's `record.uuid`, or uuid5).
    record_uuid = models.UUIDField(default=uuid.uuid4)

    class Meta:
        ordering = ["illicit", "id"]
        indexes = [models.Index(fields=["kind", "unit"], name="seizeditem_kind_unit_idx")]


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
    # Whether this record says the taxon lives here: a wild animal or plant seen alive or as
    # sign. Bushmeat, animal parts, carcasses and seized wildlife name a taxon but count in
    # no species richness, Chao1 or occurrence export, unless the form says they should
    # (`species.occurrence`). The rules: observations.categories, "Counting rules".
    is_occurrence = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["taxon", "is_occurrence"], name="speciesobs_taxon_idx")]


class METTElement(models.TextChoices):
    """The six elements of the IUCN-WCPA framework (Hockings et al. 2006)."""

    CONTEXT = "context", "Context"
    PLANNING = "planning", "Planning"
    INPUTS = "inputs", "Inputs"
    PROCESS = "process", "Process"
    OUTPUTS = "outputs", "Outputs"
    OUTCOMES = "outcomes", "Outcomes"


class METTVersion(models.TextChoices):
    """METT editions; scores of different versions are never compared in a trend. National
    variants are further values (a form names its version with `mett.version`)."""

    METT3 = "METT-3", "METT-3 (2007)"
    METT4 = "METT-4", "METT-4 (2016)"
    PNG = "PNG-METT", "PNG-METT (Papua New Guinea)"


class METTAssessment(SubmissionRecord):
    """One area's METT for one year. An area and year have one current assessment: a second
    submission for them is refused (errors.INGEST_DUPLICATE_ASSESSMENT) and kept, to be
    sent as an edit of the first."""

    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="mett_assessments")
    # The calendar year the assessment is for (as answered).
    year = models.PositiveSmallIntegerField()
    # Which METT: "METT-3", "METT-4", or a national variant such as "PNG-METT".
    version = models.CharField(max_length=16, default=METTVersion.METT3)
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
        constraints = [
            models.UniqueConstraint(fields=["root_submission", "record_uuid"], name="mett_unique_uuid"),
            models.UniqueConstraint(fields=["area", "year"], name="mett_one_per_area_year"),
        ]

    def __str__(self) -> str:
        return f"METT {self.area} {self.year}"

    @property
    def score_percent(self) -> float | None:
        return 100.0 * self.score_total / self.score_max if self.score_max else None


class METTScore(models.Model):
    """One question's score. A question assessing two WCPA elements (METT-3's 8, 10, 14,
    26 and 29) counts fully in both: `element` and `second_element` (observations.vocabulary
    .METT_ELEMENTS is the one table of them); per-element sums filter on either field."""

    assessment = models.ForeignKey(METTAssessment, on_delete=models.CASCADE, related_name="scores")
    question = models.CharField(max_length=8)  # q01..q30, bonus q07a..q30c
    element = models.CharField(max_length=16, choices=METTElement.choices)
    second_element = models.CharField(max_length=16, choices=METTElement.choices, blank=True)
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


class AgencyFiscalYear(models.Model):
    """When an agency's fiscal year starts. `agency` is ProtectedArea.management_authority
    as written there; an agency without a row keeps the calendar year (January). A fiscal
    year is named by the calendar year it starts in (July 2023–June 2024 is 2023), as the
    standard budget form asks for it ("the year the fiscal year starts in")."""

    agency = models.CharField(max_length=254, unique=True)
    start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )

    class Meta:
        ordering = ["agency"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_month__gte=1, start_month__lte=12), name="agencyfiscalyear_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency}: from month {self.start_month}"


class BudgetReturn(SubmissionRecord):
    """One area's budget return for one fiscal year: planned and actual amounts per income
    source and spending category (BudgetLine). One return per area and fiscal year: a
    second submission for them is refused (errors.INGEST_DUPLICATE_BUDGET) and kept, to be
    sent as an edit of the first."""

    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="budget_returns")
    # Named by the calendar year it starts in (AgencyFiscalYear).
    fiscal_year = models.PositiveSmallIntegerField()
    # First day of that fiscal year for the area's agency, set at ingest.
    fiscal_year_start = models.DateField(null=True, blank=True)
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
        constraints = [
            models.UniqueConstraint(fields=["root_submission", "record_uuid"], name="budget_unique_uuid"),
            models.UniqueConstraint(fields=["area", "fiscal_year"], name="budget_one_per_area_year"),
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
    # Planned (budgeted) and actual (received or spent) amounts in the return's currency;
    # either may be missing.
    planned = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    actual = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)

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
    NO_TRACK = "no_track", "Patrol day without a track: its effort stays on the patrol's area"
    DAY_HOURS_FROM_TIMES = (
        "day_hours_from_times",
        "Day cut by the clock: hours from its first to its last recorded time",
    )
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
