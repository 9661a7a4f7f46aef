"""Species observation / survey: one or more sightings, each its own `species` record with
its time and place, the species from taxa.csv, how it was recorded and how many by age
and sex. Used for incidental sightings and for surveys (transects, point counts, camera-trap
checks); effort for encounter rates comes from the patrol form.

The category of each record follows from the evidence (a track is `animals.sign.track`, a
carcass `animals.carcass`), or is `plants.notable` for plants.
"""

from __future__ import annotations

from . import common
from .common import COUNTED_EVIDENCE, EVIDENCE_CATEGORY, NAMESPACES, any_of
from .xlsform import Form, T, choices, group, q


def _category_expression() -> str:
    expression = "'animals'"
    for evidence, slug in reversed(list(EVIDENCE_CATEGORY.items())):
        expression = f"if(${{evidence}} = '{evidence}', '{slug}', {expression})"
    return f"if(${{taxon_group}} = 'plant', 'plants.notable', {expression})"


animal = "${taxon_group} != 'plant'"
counted = f"{animal} and {any_of('${evidence}', COUNTED_EVIDENCE)}"

sighting = group(
    "sighting",
    T("Sighting", "Samting yu lukim"),
    [
        common.record_uuid("sighting_uuid"),
        q(
            "datetime",
            "sighting_time",
            T("Time", "Taim"),
            required=True,
            default="now()",
            constraint="decimal-date-time(.) <= decimal-date-time(now()) + 0.01",
            constraint_message=T("Not in the future.", "I no ken bihain long nau."),
            to="observation.time",
        ),
        q(
            "geopoint",
            "location",
            T("Location", "Ples"),
            hint=T("For a camera trap, the camera's position.", "Sapos em kamera trap, ples bilong kamera."),
            required=True,
            appearance="maps",
            parameters="capture-accuracy=15 warning-accuracy=50",
            to="observation.location",
        ),
        *common.species_questions("", required="true()", evidence=animal, counted=counted),
        q(
            "integer",
            "count",
            T("How many signs?", "Hamas mak?"),
            hint=T("Number of tracks, dung piles, nests or calls.", "Hamas lek mak, pekpek, haus o krai."),
            constraint=". >= 0 and . <= 10000",
            constraint_message=T("Between 0 and 10000.", "Namba i mas stap namel long 0 na 10000."),
            relevant=f"{animal} and not({any_of('${evidence}', COUNTED_EVIDENCE)})",
            to="observation.count",
        ),
        q("calculate", "category", calculation=_category_expression(), to="observation.category"),
        q("calculate", "observer_name", calculation="${observer}", to="observation.observer"),
        *common.photo_questions(
            2,
            label=T("Photo", "Piksa"),
            hint=T(
                "The animal, its sign or the camera-trap picture.",
                "Abus, mak bilong en o piksa bilong kamera.",
            ),
        ),
        common.notes_question(),
    ],
    repeat=True,
    record="species",
)

FORM = Form(
    stem="species",
    form_id="fieldkit_species",
    title="Species observation",
    version="2026120201",
    instance_name="concat('Species ', format-date(${form_start}, '%Y-%m-%d'), ' ', ${observer}, ' (', "
    "count(${sighting}), ')')",
    namespaces=NAMESPACES,
    survey=[
        q("start", "form_start"),
        q("end", "form_end"),
        q("deviceid", "deviceid"),
        q(
            "text",
            "observer",
            T("Observer", "Nem bilong yu"),
            required=True,
            hint=T("Your name or ranger number.", "Nem o namba bilong renja."),
        ),
        q(
            "select_one method",
            "method",
            T("How are you recording?", "Yu mekim wanem kain wok?"),
            required=True,
            appearance="quick",
        ),
        sighting,
    ],
    choices=[
        *choices(
            "method",
            [
                ("incidental", T("Incidental sighting", "Lukim nating")),
                ("transect", T("Transect walk", "Wokabaut long lain")),
                ("point_count", T("Point count", "Sanap long wanpela ples na kaunim")),
                ("camera_trap", T("Camera-trap check", "Lukim kamera trap")),
                ("other", T("Other survey", "Narapela kain wok")),
            ],
        ),
        *common.TAXON_GROUP,
        *common.EVIDENCE,
    ],
)
