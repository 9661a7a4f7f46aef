"""Incident report: an illicit activity reported outside any patrol, by a community member,
an informant or a ranger off duty (SMART's independent incident, EarthRanger's report).

One report per submission. The whole report is an `incident` record, so it always gets an
illicit-activity row, with the category the reporter chose. The reporter may be somewhere
else than the incident: the location is placed on a map, or, when nobody knows it well,
the protected area is chosen and the place described.
"""

from __future__ import annotations

from . import common
from .common import AREAS_FILE, NAMESPACES
from .xlsform import Form, T, choices, group, q

reporter = [
    q(
        "text",
        "recorded_by",
        T("Your name", "Nem bilong yu"),
        hint=T("The ranger or officer writing this report.", "Renja o opisa i raitim dispela ripot."),
        required=True,
        to="observation.observer",
    ),
    q(
        "select_one report_source",
        "report_source",
        T("Who reported it?", "Husat i ripotim?"),
        required=True,
        appearance="quick",
    ),
    q(
        "text",
        "reporter",
        T("Name and contact of the person who reported it", "Nem na namba bilong man i ripot"),
        hint=T(
            "Kept with the report for follow-up. Leave blank if they asked not to be named.",
            "Mipela i holim bilong wok bihain. Lusim sapos em i no laik givim nem.",
        ),
        relevant="${report_source} != 'anonymous' and ${report_source} != 'ranger'",
    ),
]

place = [
    q(
        "datetime",
        "incident_time",
        T("When did it happen?", "Em i kamap wanem taim?"),
        hint=T("Your best estimate if the exact time is not known.", "Tingting gut sapos yu no save stret."),
        required=True,
        default="now()",
        constraint="decimal-date-time(.) <= decimal-date-time(now()) + 0.01",
        constraint_message=T("Not in the future.", "I no ken bihain long nau."),
        to="observation.time",
    ),
    q(
        "select_one yes_no",
        "location_known",
        T("Can you mark the place on the map?", "Yu inap makim ples long map?"),
        required=True,
        appearance="quick",
    ),
    q(
        "geopoint",
        "location",
        T("Place of the incident", "Ples em i kamap"),
        hint=T(
            "Move the map to the place and tap it. Use your own position only if you are there.",
            "Muvim map i go long ples na presim. Yusim ples bilong yu sapos yu stap long en tasol.",
        ),
        required=True,
        appearance="placement-map",
        relevant="${location_known} = 'yes'",
        to="observation.location",
    ),
    q(
        f"select_one_from_file {AREAS_FILE}",
        "area",
        T("Protected area", "Eria"),
        required=True,
        appearance="minimal",
        relevant="${location_known} = 'no'",
        to="observation.area",
    ),
    q(
        "text",
        "place_description",
        T("Describe the place", "Tokaut long ples"),
        hint=T("Nearest village, river, ridge or landmark.", "Ples, wara, maunten o mak i stap klostu."),
        required=True,
        appearance="multiline",
        relevant="${location_known} = 'no'",
        to="observation.notes",
    ),
]

FORM = Form(
    stem="incident",
    form_id="fieldkit_incident",
    title="Incident report",
    version="2026120201",
    instance_name=(
        "concat('Incident ', format-date-time(${incident_time}, '%Y-%m-%d'), ' ', ${category_final})"
    ),
    namespaces=NAMESPACES,
    survey=[
        q("start", "form_start"),
        q("end", "form_end"),
        q("deviceid", "deviceid"),
        # Every change to an answer is logged with its old and new value: the evidence trail.
        q("audit", "audit", parameters="track-changes=true"),
        *group(
            "report",
            None,
            [
                *group("source", T("Report", "Ripot"), reporter),
                *group("where", T("When and where", "Wanem taim na wanem ples"), place),
                *common.observation_body(
                    photos=5,
                    photo_label=T("Evidence photo", "Piksa bilong samting i kamap"),
                    photo_hint=T(
                        "Snares, weapons, logs, carcasses, the camp or the damage.",
                        "Rop trap, gan, log, bodi bilong abus, kem o bagarap.",
                    ),
                ),
            ],
            record="incident",
        ),
    ],
    choices=[
        *choices(
            "report_source",
            [
                ("ranger", T("A ranger (not on patrol)", "Renja (i no long patrol)")),
                ("community", T("A community member", "Wanpela man o meri bilong ples")),
                ("informant", T("An informant", "Man bilong givim toksave")),
                (
                    "agency",
                    T(
                        "Another agency (police, forestry, fisheries)",
                        "Narapela ofis (polis, fores, fisiris)",
                    ),
                ),
                ("anonymous", T("Anonymous", "I no givim nem")),
            ],
        ),
        *common.YES_NO,
        *common.category_choices(),
        *common.TAXON_GROUP,
        *common.EVIDENCE,
        *common.ACTION_TAKEN,
        *common.SEIZED_KIND,
        *common.INFRACTION,
        *common.RESOURCE_UNIT,
        *common.PURPOSE,
        *common.USERS,
    ],
)
