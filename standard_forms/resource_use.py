"""Resource use: one harvest, clearing or extraction seen or reported, as a `resource_use`
record: which resource, how much and in which unit, for what purpose, whether it was
permitted, and by whom. Legal and customary use is recorded here as well as illegal use;
an illegal harvest met on patrol can also go in the patrol form.

The resource chosen gives the category (timber → `human_activity.timber`); the detail
question narrows it from the category tree (logs, planks, charcoal...).
"""

from __future__ import annotations

from . import common
from .common import NAMESPACES, RESOURCE_CATEGORY, SPECIES_RESOURCES, any_of
from .xlsform import Form, T, group, q


def _category_expression() -> str:
    expression = "'human_activity'"
    for kind, slug in reversed(RESOURCE_CATEGORY):
        expression = f"if(${{resource_kind}} = '{kind}', '{slug}', {expression})"
    return expression


# The details of the chosen resource's category, less those that are resources of their own
# (firewood is a resource, not a kind of timber, in this form).
DETAIL_FILTER = "parent = ${resource_category}" + "".join(
    f" and name != '{slug}'" for _, slug in RESOURCE_CATEGORY
)

FORM = Form(
    stem="resource_use",
    form_id="fieldkit_resource_use",
    title="Resource use",
    version="2026112301",
    instance_name=(
        "concat('Resource use ', format-date-time(${observation_time}, '%Y-%m-%d'), ' ', ${resource_kind})"
    ),
    namespaces=NAMESPACES,
    survey=[
        q("start", "form_start"),
        q("end", "form_end"),
        q("deviceid", "deviceid"),
        *group(
            "use",
            None,
            [
                q(
                    "text",
                    "recorded_by",
                    T("Your name", "Nem bilong yu"),
                    required=True,
                    hint=T("Your name or ranger number.", "Nem o namba bilong renja."),
                    to="observation.observer",
                ),
                q(
                    "datetime",
                    "observation_time",
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
                    hint=T(
                        "Where the resource was taken, cleared or dug.", "Ples ol i kisim, katim o digim."
                    ),
                    required=True,
                    appearance="maps",
                    parameters="capture-accuracy=15 warning-accuracy=50",
                    to="observation.location",
                ),
                q(
                    "select_one resource_kind",
                    "resource_kind",
                    T("Resource", "Wanem samting?"),
                    required=True,
                    appearance="quick",
                    to="resource.kind",
                ),
                # Mapped before the detail: the last non-empty category answer wins.
                q(
                    "calculate",
                    "resource_category",
                    calculation=_category_expression(),
                    to="observation.category",
                ),
                q(
                    "select_one subcategory",
                    "detail",
                    T("Detail", "Moa long en"),
                    required=True,
                    appearance="quick",
                    choice_filter=DETAIL_FILTER,
                    relevant=f"count(instance('subcategory')/root/item[{DETAIL_FILTER}]) > 0",
                    to="observation.category",
                ),
                *common.species_questions(any_of("${resource_kind}", SPECIES_RESOURCES), required=""),
                common.resource_questions(""),
                *common.photo_questions(
                    3,
                    label=T("Photo", "Piksa"),
                    hint=T(
                        "The harvest, the stumps, the garden or the site.",
                        "Samting ol i kisim, as bilong diwai, gaden o ples.",
                    ),
                ),
                common.notes_question(),
            ],
            record="resource_use",
        ),
    ],
    choices=[
        *common.RESOURCE_KIND,
        *[c for c in common.category_choices() if c.list_name == "subcategory"],
        *common.TAXON_GROUP,
        *common.RESOURCE_UNIT,
        *common.PURPOSE,
        *common.YES_NO,
        *common.USERS,
    ],
)
