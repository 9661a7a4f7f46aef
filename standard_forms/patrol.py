"""Patrol: one submission per patrol, one `day` repeat per patrol day (SMART's leg-day,
the unit of effort), each day with its start, end, rest, track and observations.

A patrol has one leg here (one transport, team and mandate); an agency whose patrols
change transport midway can wrap the days in a `patrol_leg` repeat (see README).

Tracks: Collect's geotrace question records a point every few seconds in its automatic
mode while its map is open, and the ranger can leave it to record an observation and
come back to extend the same line. The audit log also records the phone's position once a
minute while the form is open, a fallback track kept with the submission.
"""

from __future__ import annotations

from . import common
from .common import NAMESPACES
from .xlsform import Form, T, group, q

DAY_START = "${day_start}"
DAY_END = "${day_end}"
_DAY_LENGTH = f"decimal-date-time({DAY_END}) - decimal-date-time({DAY_START})"

patrol_team = [
    q(
        "text",
        "patrol_id",
        T("Patrol number", "Namba bilong patrol"),
        hint=T(
            "From the patrol order, if your station numbers its patrols.",
            "Kisim long pepa bilong patrol, sapos stesin i givim namba long ol patrol.",
        ),
        to="patrol.id",
    ),
    q("text", "station", T("Station", "Stesin"), to="patrol.station"),
    q(
        "text",
        "team",
        T("Team", "Tim"),
        hint=T("Name of the ranger team.", "Nem bilong tim."),
        to="patrol.team",
    ),
    q(
        "text",
        "leader",
        T("Patrol leader", "Lida bilong patrol"),
        required=True,
        hint=T("Full name or ranger number.", "Olgeta nem o namba bilong renja."),
        to="patrol.leader",
    ),
    q(
        "text",
        "members",
        T("Other members", "Ol narapela memba"),
        hint=T("One name per line.", "Raitim wanpela nem long wanpela lain."),
        appearance="multiline",
        to="patrol.members",
    ),
    q(
        "integer",
        "member_count",
        T(
            "How many people are on the patrol, including the leader?",
            "Hamas manmeri i go long patrol? Kaunim lida tu.",
        ),
        hint=T("Used to count person-days of effort.", "Mipela i yusim bilong kaunim wok bilong olgeta de."),
        required=True,
        constraint=". >= 1 and . <= 100",
        constraint_message=T("Between 1 and 100.", "Namba i mas stap namel long 1 na 100."),
        to="patrol.member_count",
    ),
    q(
        "select_one transport",
        "transport",
        T("How is the patrol travelling?", "Patrol i go long wanem?"),
        required=True,
        appearance="quick",
        default="foot",
        to="patrol.transport",
    ),
    q(
        "select_one mandate",
        "mandate",
        T("Mandate", "Wok bilong patrol"),
        required=True,
        appearance="quick",
        to="patrol.mandate",
    ),
    q(
        "text",
        "objective",
        T("Objective", "As bilong patrol"),
        hint=T(
            "What the patrol is meant to do, e.g. check the eastern boundary.",
            "Patrol i go bilong mekim wanem, olsem lukim arere long hap bilong is.",
        ),
        to="patrol.objective",
    ),
    q(
        "select_one yes_no",
        "armed",
        T("Is the patrol armed?", "Patrol i karim gan?"),
        appearance="quick",
        default="no",
        to="patrol.armed",
    ),
]

observation = group(
    "observation",
    T("Observation", "Samting yu lukim"),
    [
        common.record_uuid("observation_uuid"),
        q(
            "datetime",
            "observation_time",
            T("Time", "Taim"),
            required=True,
            default="now()",
            constraint=f"decimal-date-time(.) >= decimal-date-time({DAY_START}) - 0.01",
            constraint_message=T(
                "Not before the start of this day.", "I no ken pastaim long stat bilong dispela de."
            ),
            to="observation.time",
        ),
        q(
            "geopoint",
            "location",
            T("Location", "Ples"),
            hint=T(
                "Wait until the accuracy is 15 m or better if you can.",
                "Wet inap akurasi i kamap 15 m o liklik moa sapos yu inap.",
            ),
            required=True,
            appearance="maps",
            parameters="capture-accuracy=15 warning-accuracy=50",
            to="observation.location",
        ),
        *common.observation_body(
            photos=3,
            photo_label=T("Photo", "Piksa"),
            photo_hint=T(
                "Evidence, the animal, its sign or the place.",
                "Piksa bilong samting yu painim, abus, mak bilong en o ples.",
            ),
        ),
    ],
    repeat=True,
    record="observation",
)

day = group(
    "day",
    T("Patrol day", "De bilong patrol"),
    [
        common.record_uuid("day_uuid"),
        q(
            "datetime",
            "day_start",
            T("Start of this day", "Taim yu stat long dispela de"),
            required=True,
            default="now()",
            to="patrol.start",
        ),
        q(
            "geotrace",
            "track",
            T("Track", "Rot bilong patrol"),
            hint=T(
                "Press the record button and choose automatic recording, every 20 seconds. "
                "Go back to record an observation, then return here and continue the same line.",
                "Presim baten bilong rekod na makim otomatik, olgeta 20 sekon. Go bek bilong raitim "
                "samting yu lukim, na kam bek hia bilong go het long wankain lain.",
            ),
            to="patrol.track",
        ),
        observation,
        q(
            "datetime",
            "day_end",
            T("End of this day", "Taim yu pinis long dispela de"),
            required=True,
            constraint=f"decimal-date-time(.) > decimal-date-time({DAY_START}) and {_DAY_LENGTH} <= 1",
            constraint_message=T(
                "After the start, and within 24 hours of it.",
                "Bihain long taim yu stat, na insait long 24 aua.",
            ),
            to="patrol.end",
        ),
        q(
            "integer",
            "rest_minutes",
            T("Rest (minutes)", "Malolo (minit)"),
            hint=T(
                "All breaks during the day added up, not counting the night.",
                "Olgeta malolo long de, no kaunim nait.",
            ),
            required=True,
            default="0",
            constraint=f". >= 0 and . <= ({_DAY_LENGTH}) * 1440",
            constraint_message=T("Not longer than the day.", "I no ken longpela moa long de."),
            to="patrol.rest_minutes",
        ),
    ],
    repeat=True,
    record="patrol_day",
)

FORM = Form(
    stem="patrol",
    form_id="fieldkit_patrol",
    title="Patrol",
    version="2026120201",
    instance_name="concat('Patrol ', format-date(${form_start}, '%Y-%m-%d'), ' ', ${leader})",
    namespaces=NAMESPACES,
    survey=[
        q("start", "form_start"),
        q("end", "form_end"),
        q("deviceid", "deviceid"),
        q(
            "audit",
            "audit",
            parameters="location-priority=high-accuracy location-min-interval=60 location-max-age=120",
        ),
        *group("patrol", T("Patrol team", "Tim bilong patrol"), patrol_team),
        day,
        q(
            "text",
            "patrol_notes",
            T("Patrol notes", "Toktok long patrol"),
            appearance="multiline",
            to="patrol.notes",
        ),
    ],
    choices=[
        *common.YES_NO,
        *common.TRANSPORT,
        *common.MANDATE,
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
