"""Choice lists and question blocks shared by the standard forms.

Choice names are the codes of observations.vocabulary (transport, action taken, units...)
and the category slugs of observations.categories, so the forms need no `fieldkit`
translation column. The category cascade (vertical → category → detail) is generated
from the category tree, never typed here.
"""

from __future__ import annotations

from observations import categories
from observations.vocabulary import NAMESPACE_DECLARATION

from .xlsform import TPI, Choice, Row, Rows, T, choices, group, q

NAMESPACES = NAMESPACE_DECLARATION
TAXA_FILE = "taxa.csv"
AREAS_FILE = "areas.csv"

# --- Plain lists -------------------------------------------------------------------------

YES_NO = choices("yes_no", [("yes", T("Yes", "Yes")), ("no", T("No", "Nogat"))])

TRANSPORT = choices(
    "transport",
    [
        ("foot", T("On foot", "Wokabaut long lek")),
        ("vehicle", T("Vehicle", "Ka")),
        ("motorbike", T("Motorbike", "Motobaik")),
        ("boat", T("Boat or canoe", "Bot o kanu")),
        ("air", T("Aircraft", "Balus")),
    ],
)

MANDATE = choices(
    "mandate",
    [
        ("law_enforcement", T("Law enforcement", "Lukautim lo")),
        ("monitoring", T("Wildlife and resource monitoring", "Lukluk long ol abus na bus")),
        ("community", T("Community awareness", "Toktok wantaim ol lain bilong ples")),
        ("boundary", T("Boundary check", "Lukim mak bilong arere")),
        ("other", T("Other", "Narapela")),
    ],
)

# SMART's actiontaken_people values and what rangers do with what they find.
ACTION_TAKEN = choices(
    "action_taken",
    [
        ("observed_only", T("Observed only", "Lukim tasol")),
        ("unsuccessful_pursuit", T("Pursued, not caught", "Ran bihainim tasol i no holim")),
        ("arrested", T("Arrested", "Kalabusim")),
        ("verbal_warning", T("Verbal warning", "Givim tok lukaut long maus")),
        ("written_warning", T("Written warning", "Givim pas bilong tok lukaut")),
        ("confiscated", T("Items confiscated", "Kisim ol samting")),
        ("destroyed", T("Destroyed (snares, camp)", "Bagarapim (rop trap, kem)")),
        ("reported", T("Reported to police or authority", "Ripotim long polis o gavman")),
    ],
)

# SMART's infraction list, widened to the offences PNG rangers meet.
INFRACTION = choices(
    "infraction",
    [
        ("hunting_in_pa", T("Hunting in the protected area", "Painim abus insait long eria")),
        ("illegal_entry", T("Illegal entry", "Go insait nating")),
        ("possession_firearm", T("Possession of a firearm", "Holim gan")),
        ("possession_wildlife", T("Possession of wildlife or parts", "Holim abus o hap bilong abus")),
        ("wildlife_trade", T("Wildlife trade", "Salim abus")),
        ("illegal_logging", T("Illegal logging", "Katim diwai nating")),
        ("illegal_fishing", T("Illegal fishing", "Huk pis nating")),
        ("illegal_mining", T("Illegal mining", "Wasim gol nating")),
        ("illegal_clearing", T("Illegal clearing or garden", "Katim bus nating")),
        ("other", T("Other", "Narapela")),
    ],
)

RESOURCE_KIND = choices(
    "resource_kind",
    [
        ("timber", T("Timber", "Diwai")),
        ("firewood", T("Firewood", "Paiawut")),
        ("ntfp", T("Non-timber forest products", "Ol narapela samting bilong bus")),
        ("fish", T("Fish and sea food", "Pis na kaikai bilong solwara")),
        ("bushmeat", T("Bushmeat and animal parts", "Mit na hap bilong abus")),
        ("clearing", T("Land clearing or garden", "Katim bus o wokim gaden")),
        ("minerals", T("Rocks and minerals", "Ston na gol")),
        ("other", T("Other", "Narapela")),
    ],
)

# Resource kind → the category it is recorded under (observations.categories owns the map).
# Most specific first: the calculation that goes from a category back to its kind tests the
# prefixes in this order.
RESOURCE_CATEGORY = tuple((kind, slug) for slug, kind in categories.RESOURCE_KIND_BY_CATEGORY.items())
# Resources whose species is worth naming (kwila logs, cassowary meat, sea cucumbers).
SPECIES_RESOURCES = ("timber", "ntfp", "bushmeat", "fish")

# Which units make sense for which resource kind (choice filter column `kinds`).
_UNIT_KINDS = {
    "logs": "timber other",
    "m3": "timber firewood minerals other",
    "kg": "firewood ntfp fish bushmeat minerals other",
    "ha": "clearing other",
    "items": "timber ntfp fish bushmeat other",
    "bundles": "firewood ntfp other",
    "litres": "other",
}
RESOURCE_UNIT = choices(
    "resource_unit",
    [
        ("logs", T("Logs", "Log")),
        ("m3", T("Cubic metres (m³)", "Kubik mita (m³)")),
        ("kg", T("Kilograms (kg)", "Kilo (kg)")),
        ("ha", T("Hectares (ha)", "Hekta (ha)")),
        ("items", T("Pieces or animals (count)", "Kaunim wan wan")),
        ("bundles", T("Bundles")),
        ("litres", T("Litres", "Lita")),
    ],
    kinds=_UNIT_KINDS,
)

PURPOSE = choices(
    "purpose",
    [
        ("subsistence", T("Household use (subsistence)", "Bilong famili")),
        ("commercial", T("For sale (commercial)", "Bilong salim")),
        ("customary", T("Customary or ceremonial use", "Bilong kastom")),
        ("unknown", T("Unknown", "Mi no save")),
    ],
)

USERS = choices(
    "users",
    [
        ("community", T("Local community", "Ol lain bilong ples")),
        ("outsiders", T("Outsiders", "Ol man bilong narapela hap")),
        ("mixed", T("Both", "Tupela wantaim")),
        ("unknown", T("Unknown", "Mi no save")),
    ],
)

EVIDENCE = choices(
    "evidence",
    [
        ("direct", T("Seen (direct sighting)", "Lukim long ai")),
        ("track", T("Tracks", "Lek mak")),
        ("dung", T("Dung", "Pekpek")),
        ("call", T("Call heard", "Harim krai")),
        ("nest", T("Nest or burrow", "Haus bilong abus")),
        ("sign", T("Other sign (feeding, scratches)", "Narapela mak")),
        ("carcass", T("Carcass", "Bodi bilong abus i dai")),
        ("camera_trap", T("Camera trap", "Kamera trap")),
        ("other", T("Other", "Narapela")),
    ],
)
# Evidence of individual animals, counted by age and sex; other evidence gets one count.
COUNTED_EVIDENCE = ("direct", "camera_trap", "carcass")
# The category a species record gets from its evidence (species form).
EVIDENCE_CATEGORY = {evidence: slug for slug, evidence in categories.EVIDENCE_BY_CATEGORY.items()} | {
    "other": "animals"
}

# Groups of taxa.csv (column `group`), to keep the species list short on a phone.
TAXON_GROUP = choices(
    "taxon_group",
    [
        ("mammal", T("Mammal", "Abus i gat gras")),
        ("bird", T("Bird", "Pisin")),
        ("reptile", T("Reptile (crocodile, turtle, snake, lizard)", "Pukpuk, trausel, snek, palai")),
        ("amphibian", T("Frog", "Rokrok")),
        ("fish", T("Fish, shark or ray", "Pis na sak")),
        ("invertebrate", T("Insect, shell or sea cucumber", "Binatang, sel na beche-de-mer")),
        ("plant", T("Plant or tree", "Plaua o diwai")),
    ],
)

# --- The category cascade ------------------------------------------------------------------

VERTICAL_LABELS = {
    "illicit": T("Illegal activity", "Pasin i brukim lo"),
    "resource_use": T("Resource use", "Yusim ol samting bilong bus o solwara"),
    "biodiversity": T("Wildlife and plants", "Ol abus na plaua"),
    "other": T("Other (features, fire, position)", "Narapela samting (ples, paia)"),
}


def category_levels() -> tuple[list[categories.CategoryDef], list[categories.CategoryDef]]:
    """The tree as the two selectable levels of the form.

    Categories: the children of the roots, and the roots without children (`position`,
    `other`). Details: their children. Roots with children (`human_activity`, `animals`)
    are headings, reached through the vertical.
    """
    active = [c for c in categories.CATEGORIES if c.active]
    parents = {c.parent for c in active if c.parent}
    deeper = [c.slug for c in active if c.depth > 2]
    if deeper:
        raise ValueError(f"the form's cascade has three levels; these categories are deeper: {deeper}")
    level_category = [c for c in active if c.depth == 1 or (c.depth == 0 and c.slug not in parents)]
    level_detail = [c for c in active if c.depth == 2]
    return level_category, level_detail


def category_choices() -> list[Choice]:
    level_category, level_detail = category_levels()
    vertical = [Choice("vertical", v, VERTICAL_LABELS[v]) for v in categories.VERTICALS]
    category = [
        Choice("category", c.slug, T(c.label_en, c.label_tpi), {"vertical": c.vertical})
        for c in level_category
    ]
    detail = [
        Choice("subcategory", c.slug, T(c.label_en, c.label_tpi), {"parent": c.parent}) for c in level_detail
    ]
    return vertical + category + detail


def resource_kind_expression(category_ref: str) -> str:
    """XPath giving the resource kind of the category in `category_ref`."""
    expression = "'other'"
    for kind, slug in reversed(RESOURCE_CATEGORY):
        expression = f"if(starts-with({category_ref}, '{slug}'), '{kind}', {expression})"
    return expression


def any_of(ref: str, values: tuple[str, ...] | list[str]) -> str:
    return "(" + " or ".join(f"{ref} = '{v}'" for v in values) + ")"


# --- Question blocks ---------------------------------------------------------------------


def record_uuid(name: str) -> Row:
    """A repeat's stable identity: set once when the repeat is added and kept through every
    edit, whatever the order of the repeats (observations.records: `record.uuid`). Names
    differ per repeat, as a form's question names must be unique."""
    return q("calculate", name, calculation="once(uuid())", to="record.uuid")


SEIZED_KIND = choices(
    "seized_kind",
    [
        ("snare", T("Snares or traps", "Rop trap o trap")),
        ("firearm", T("Firearm", "Gan")),
        ("homemade_gun", T("Homemade gun", "Hom-mek gan")),
        ("ammunition", T("Ammunition", "Ol katris")),
        ("cutting_tool", T("Bush knife or axe", "Busnaip o akis")),
        ("chainsaw", T("Chainsaw", "Sensa")),
        ("fishing_gear", T("Nets or fishing gear", "Umben o samting bilong huk pis")),
        ("explosive", T("Explosives", "Paura bilong pairap")),
        ("bushmeat", T("Bushmeat", "Mit bilong abus")),
        ("animal_parts", T("Animal parts", "Hap bilong abus")),
        ("live_animal", T("Live animal", "Abus i stap laip")),
        ("timber", T("Timber", "Diwai")),
        ("fish", T("Fish or sea products", "Pis o samting bilong solwara")),
        ("vehicle", T("Vehicle", "Ka")),
        ("boat", T("Boat", "Bot")),
        ("other", T("Other", "Narapela")),
    ],
)
# What was done with a find that makes items to list.
SEIZING_ACTIONS = ("confiscated", "destroyed", "arrested")


def category_cascade() -> list[Row]:
    """vertical → category → detail, all mapped to observation.category (last answer wins)."""
    return [
        q(
            "select_one vertical",
            "vertical",
            T("What did you find?", "Yu painim wanem samting?"),
            required=True,
            appearance="quick",
        ),
        q(
            "select_one category",
            "category",
            T("Category", "Wanem kain samting?"),
            required=True,
            appearance="quick",
            choice_filter="vertical=${vertical}",
            to="observation.category",
        ),
        q(
            "select_one subcategory",
            "subcategory",
            T("Detail", "Moa long en"),
            required=True,
            appearance="quick",
            choice_filter="parent=${category}",
            relevant="count(instance('subcategory')/root/item[parent = ${category}]) > 0",
            to="observation.category",
        ),
        q("calculate", "category_final", calculation="coalesce(${subcategory}, ${category})"),
        q(
            "calculate",
            "resource_kind",
            calculation=resource_kind_expression("${category_final}"),
            relevant="${vertical} = 'resource_use'",
            to="resource.kind",
        ),
    ]


def illicit_questions(relevant: str) -> Rows:
    return group(
        "illicit",
        T("Illegal activity", "Pasin i brukim lo"),
        [
            q(
                "integer",
                "suspects",
                T("How many suspects?", "Hamas man i mekim rong?"),
                hint=T(
                    "People seen or known to be involved. 0 if none were seen.",
                    "Ol man yu lukim o yu save ol i insait long en. 0 sapos yu no lukim wanpela.",
                ),
                constraint=". >= 0 and . <= 500",
                constraint_message=T("Between 0 and 500.", "Namba i mas stap namel long 0 na 500."),
                to="illicit.suspects",
            ),
            q(
                "text",
                "suspect_names",
                T("Names of the suspects", "Nem bilong ol man i mekim rong"),
                hint=T(
                    "Only law-enforcement staff can see names; they are never published.",
                    "Ol wokman bilong lo tasol i ken lukim ol nem. Ol i no save soim long pablik.",
                ),
                appearance="multiline",
                relevant="${suspects} > 0",
                to="illicit.suspect_names",
            ),
            q(
                "select_one infraction",
                "infraction",
                T("Offence", "Wanem rong?"),
                appearance="minimal",
                to="illicit.infraction",
            ),
            q(
                "select_multiple action_taken",
                "action_taken",
                T("Action taken (all that apply)", "Yu mekim wanem? (makim olgeta)"),
                required=True,
                to="illicit.action_taken",
            ),
            *group(
                "seized",
                T("Item seized or destroyed", "Samting yu kisim o bagarapim"),
                [
                    record_uuid("seized_uuid"),
                    q(
                        "select_one seized_kind",
                        "seized_kind",
                        T("What?", "Wanem samting?"),
                        required=True,
                        appearance="minimal",
                        to="seized.kind",
                    ),
                    q(
                        "decimal",
                        "seized_quantity",
                        T("How many or how much?", "Hamas?"),
                        required=True,
                        constraint=". > 0",
                        constraint_message=T("More than 0.", "Namba i mas winim 0."),
                        to="seized.quantity",
                    ),
                    q(
                        "select_one resource_unit",
                        "seized_unit",
                        T("Unit", "Kaunim long wanem?"),
                        required=True,
                        default="items",
                        appearance="minimal",
                        to="seized.unit",
                    ),
                    q(
                        "select_one yes_no",
                        "seized_destroyed",
                        T("Destroyed on the spot?", "Yu bagarapim long hap?"),
                        appearance="quick",
                        default="no",
                        to="seized.destroyed",
                    ),
                    q("text", "seized_description", T("Description", "Stori"), to="seized.description"),
                ],
                repeat=True,
                record="seized_item",
                relevant=" or ".join(f"selected(${{action_taken}}, '{a}')" for a in SEIZING_ACTIONS),
            ),
        ],
        relevant=relevant,
    )


def resource_questions(relevant: str, kind_ref: str = "${resource_kind}") -> Rows:
    return group(
        "resource",
        T("Resource use", "Yusim ol samting bilong bus o solwara"),
        [
            q(
                "decimal",
                "quantity",
                T("Quantity", "Hamas?"),
                hint=T(
                    "Your best estimate, e.g. 6 logs, 20 kg, 0.5 ha.",
                    "Tingting gut na kaunim, olsem 6 log, 20 kilo, 0.5 hekta.",
                ),
                required=True,
                constraint=". > 0",
                constraint_message=T("More than 0.", "Namba i mas winim 0."),
                to="resource.quantity",
            ),
            q(
                "select_one resource_unit",
                "unit",
                T("Unit", "Kaunim long wanem?"),
                required=True,
                appearance="quick",
                choice_filter=f"selected(kinds, {kind_ref})",
                to="resource.unit",
            ),
            q(
                "select_one purpose",
                "purpose",
                T("Purpose", "Bilong wanem?"),
                appearance="quick",
                to="resource.purpose",
            ),
            q(
                "select_one yes_no",
                "permitted",
                T(
                    "Was it permitted (licence or customary agreement)?",
                    "Ol i gat tok orait (laisens o tok orait bilong ol papa graun)?",
                ),
                hint=T("Leave blank if you do not know.", "Lusim sapos yu no save."),
                appearance="quick",
                to="resource.permitted",
            ),
            q(
                "select_one users",
                "users",
                T("Who was using it?", "Husat i yusim?"),
                appearance="quick",
                to="resource.users",
            ),
        ],
        relevant=relevant,
    )


def species_questions(
    relevant: str, *, required: str, evidence: str | None = None, counted: str | None = None
) -> list[Row | Rows]:
    """Species from taxa.csv, then (when `evidence` holds) how it was recorded and (when
    `counted` holds) how many animals by age and sex; None leaves those questions out."""
    rows: list[Row | Rows] = [
        q(
            "select_one taxon_group",
            "taxon_group",
            T("Species group", "Wanem lain?"),
            required=required,
            appearance="quick",
            relevant=relevant,
        ),
        q(
            f"select_one_from_file {TAXA_FILE}",
            "taxon",
            T("Species", "Wanem abus o plaua?"),
            hint=T("Type part of the name to search.", "Raitim hap bilong nem bilong painim."),
            required=required,
            appearance="autocomplete",
            relevant=relevant,
            choice_filter="group=${taxon_group} or name='unknown'",
            to="species.taxon",
        ),
        q(
            "text",
            "taxon_other",
            T("Name of the species", "Nem bilong en"),
            hint=T("Local, common or scientific name.", "Nem long tok ples, Inglis o saiens."),
            relevant="starts-with(${taxon}, 'other_')",
            to="observation.notes",
        ),
    ]
    if evidence is not None:
        rows.append(
            q(
                "select_one evidence",
                "evidence",
                T("How do you know it was there?", "Yu save olsem wanem?"),
                required=True,
                appearance="quick",
                relevant=evidence,
                to="species.evidence",
            )
        )
    if counted is not None:
        rows += group(
            "counts",
            T("How many animals?", "Hamas abus?"),
            [
                _count("count_adult_male", T("Adult males", "Ol man (bikpela)"), "species.count_adult_male"),
                _count(
                    "count_adult_female",
                    T("Adult females", "Ol meri (bikpela)"),
                    "species.count_adult_female",
                ),
                _count("count_juvenile", T("Young", "Ol pikinini"), "species.count_juvenile"),
                _count(
                    "count_unknown", T("Age or sex unknown", "Mi no save man o meri"), "species.count_unknown"
                ),
            ],
            appearance="field-list",
            relevant=counted,
        )
    return rows


def _count(name: str, label: T, target: str) -> Row:
    return q(
        "integer",
        name,
        label,
        constraint=". >= 0 and . <= 10000",
        constraint_message=T("Between 0 and 10000.", "Namba i mas stap namel long 0 na 10000."),
        to=target,
    )


def count_question(relevant: str) -> Row:
    return q(
        "integer",
        "count",
        T("How many?", "Hamas?"),
        hint=T(
            "Number of people, snares, camps, tracks or other things seen here.",
            "Hamas manmeri, rop trap, kem, lek mak o narapela samting yu lukim long hia.",
        ),
        constraint=". >= 0 and . <= 10000",
        constraint_message=T("Between 0 and 10000.", "Namba i mas stap namel long 0 na 10000."),
        relevant=relevant,
        to="observation.count",
    )


def photo_questions(count: int, *, label: T, hint: T) -> list[Row]:
    """Up to `count` photos, each shown once the one before is taken."""
    rows = []
    for n in range(1, count + 1):
        name = "photo" if n == 1 else f"photo_{n}"
        previous = "photo" if n == 2 else f"photo_{n - 1}"
        rows.append(
            q(
                "image",
                name,
                label if n == 1 else T(f"{label.en} {n}", f"{label.get(TPI)} {n}"),
                hint=hint if n == 1 else None,
                parameters="max-pixels=1600",
                relevant=f"${{{previous}}} != ''" if n > 1 else "",
                to="observation.photo",
            )
        )
    return rows


def notes_question(name: str = "notes") -> Row:
    return q(
        "text",
        name,
        T("Notes", "Sampela toktok moa"),
        appearance="multiline",
        to="observation.notes",
    )


def observation_body(*, photos: int, photo_label: T, photo_hint: T) -> list[Row | Rows]:
    """What an observation is and its follow-up questions, by vertical: the block shared by
    the patrol form's observations and the incident report."""
    biodiversity = "${vertical} = 'biodiversity'"
    counted_evidence = any_of("${evidence}", COUNTED_EVIDENCE)
    named_species = (
        f"{biodiversity} or {any_of('${resource_kind}', SPECIES_RESOURCES)} "
        "or selected(${action_taken}, 'confiscated')"
    )
    return [
        *category_cascade(),
        *species_questions(
            named_species,
            required=biodiversity,
            evidence=biodiversity,
            counted=f"{biodiversity} and {counted_evidence}",
        ),
        count_question(
            "${vertical} = 'illicit' or ${vertical} = 'other' "
            f"or ({biodiversity} and not({counted_evidence}))"
        ),
        illicit_questions("${vertical} = 'illicit'"),
        resource_questions("${vertical} = 'resource_use'"),
        *photo_questions(photos, label=photo_label, hint=photo_hint),
        notes_question(),
    ]
