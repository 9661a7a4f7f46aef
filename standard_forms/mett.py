"""METT assessment: the 30 questions of the Management Effectiveness Tracking Tool
(METT-3, WWF / World Bank 2007), each scored 0–3 or not applicable, with a comment and
next steps, and the 12 bonus points (7a–c, 21a–c, 24a–c, 30a–c); for one protected area
and one year.

Questions are grouped by the element of the IUCN-WCPA framework they assess (context,
planning, inputs, process, outputs, outcomes), as in the METT's own data sheet; where the
METT gives two elements (8: planning/outputs) the first one groups it. Question numbers and
target names (`mett.q07`, `mett.q07a`) are those of the paper form, whatever the order here.

The form is for the assessment workshop, on a tablet or in a browser, and is in English.
"""

from __future__ import annotations

from dataclasses import dataclass

from observations.vocabulary import METT_ELEMENTS

from .common import AREAS_FILE, NAMESPACES
from .xlsform import ENGLISH_ONLY, Choice, Form, Row, Rows, group, q

ELEMENTS = (
    ("context", "Context"),
    ("planning", "Planning"),
    ("inputs", "Inputs"),
    ("process", "Process"),
    ("outputs", "Outputs"),
    ("outcomes", "Outcomes"),
)


@dataclass(frozen=True)
class Question:
    number: int
    title: str
    question: str
    answers: tuple[str, str, str, str]  # scores 0, 1, 2, 3
    bonus: tuple[tuple[str, str], ...] = ()  # (letter, text), one point each

    @property
    def name(self) -> str:
        return f"q{self.number:02d}"

    @property
    def element(self) -> str:
        """The IUCN-WCPA element it assesses, as observations records it."""
        return METT_ELEMENTS[self.name][0]


QUESTIONS = (
    Question(
        1,
        "Legal status",
        "Does the protected area have legal status (or, for a private reserve, a covenant or similar)?",
        (
            "The protected area is not gazetted or covenanted.",
            "There is agreement that the area should be gazetted or covenanted, but the process has not "
            "begun.",
            "The area is being gazetted or covenanted but the process is incomplete (includes sites "
            "designated "
            "under international conventions or customary law without national legal status).",
            "The protected area has been formally gazetted or covenanted.",
        ),
    ),
    Question(
        2,
        "Protected area regulations",
        "Are appropriate regulations in place to control land use and activities (e.g. hunting)?",
        (
            "There are no regulations for controlling land use and activities in the protected area.",
            "Some regulations exist but they have major weaknesses.",
            "Regulations exist but there are some weaknesses or gaps.",
            "Regulations for controlling inappropriate land use and activities exist and provide an "
            "excellent "
            "basis for management.",
        ),
    ),
    Question(
        3,
        "Law enforcement",
        "Can staff (those responsible for managing the site) enforce protected area rules well enough?",
        (
            "The staff have no effective capacity or resources to enforce protected area legislation and "
            "regulations.",
            "There are major deficiencies in staff capacity or resources to enforce legislation and "
            "regulations "
            "(e.g. lack of skills, no patrol budget, lack of institutional support).",
            "The staff have acceptable capacity and resources to enforce legislation and regulations, but "
            "some "
            "deficiencies remain.",
            "The staff have excellent capacity and resources to enforce legislation and regulations.",
        ),
    ),
    Question(
        4,
        "Protected area objectives",
        "Is management undertaken according to agreed objectives?",
        (
            "No firm objectives have been agreed for the protected area.",
            "The protected area has agreed objectives but is not managed according to them.",
            "The protected area has agreed objectives but is only partially managed according to them.",
            "The protected area has agreed objectives and is managed to meet them.",
        ),
    ),
    Question(
        5,
        "Protected area design",
        "Is the protected area the right size and shape to protect species, habitats, ecological processes "
        "and water catchments of key conservation concern?",
        (
            "Inadequacies in design make achieving the major objectives of the protected area very "
            "difficult.",
            "Inadequacies in design make achieving the major objectives difficult, but some mitigating "
            "actions "
            "are being taken (e.g. agreements with neighbouring landowners for wildlife corridors).",
            "Design is not significantly constraining the objectives, but could be improved (e.g. for larger "
            "scale ecological processes).",
            "Design helps achieve the objectives: it is appropriate for species and habitat conservation and "
            "maintains ecological processes such as water flows at catchment scale and natural disturbance.",
        ),
    ),
    Question(
        6,
        "Boundary demarcation",
        "Is the boundary known and demarcated?",
        (
            "The boundary is not known by the management authority or by local residents and neighbouring "
            "land users.",
            "The boundary is known by the management authority but not by local residents and neighbouring "
            "land users.",
            "The boundary is known by the management authority and by local residents and neighbouring land "
            "users, but is not appropriately demarcated.",
            "The boundary is known by the management authority and by local residents and neighbouring land "
            "users, and is appropriately demarcated.",
        ),
    ),
    Question(
        7,
        "Management plan",
        "Is there a management plan and is it being implemented?",
        (
            "There is no management plan for the protected area.",
            "A management plan is being prepared, or has been prepared but is not being implemented.",
            "A management plan exists but is only partially implemented because of funding constraints or "
            "other problems.",
            "A management plan exists and is being implemented.",
        ),
        (
            (
                "a",
                "The planning process allows adequate opportunity for key stakeholders to influence the "
                "management plan.",
            ),
            (
                "b",
                "There is an established schedule and process for periodic review and updating of the "
                "management plan.",
            ),
            (
                "c",
                "The results of monitoring, research and evaluation are routinely incorporated into "
                "planning.",
            ),
        ),
    ),
    Question(
        8,
        "Regular work plan",
        "Is there a regular work plan and is it being implemented?",
        (
            "No regular work plan exists.",
            "A regular work plan exists but few of its activities are implemented.",
            "A regular work plan exists and many of its activities are implemented.",
            "A regular work plan exists and all of its activities are implemented.",
        ),
    ),
    Question(
        9,
        "Resource inventory",
        "Is there enough information to manage the area?",
        (
            "There is little or no information on the critical habitats, species and cultural values of the "
            "protected area.",
            "Information on the critical habitats, species, ecological processes and cultural values is not "
            "sufficient to support planning and decision making.",
            "Information on the critical habitats, species, ecological processes and cultural values is "
            "sufficient for most key areas of planning and decision making.",
            "Information on the critical habitats, species, ecological processes and cultural values is "
            "sufficient to support all areas of planning and decision making.",
        ),
    ),
    Question(
        10,
        "Protection systems",
        "Are systems in place to control access to and resource use in the protected area?",
        (
            "Protection systems (patrols, permits etc.) do not exist or are not effective in controlling "
            "access and resource use.",
            "Protection systems are only partially effective in controlling access and resource use.",
            "Protection systems are moderately effective in controlling access and resource use.",
            "Protection systems are largely or wholly effective in controlling access and resource use.",
        ),
    ),
    Question(
        11,
        "Research",
        "Is there a programme of management-oriented survey and research work?",
        (
            "There is no survey or research work taking place in the protected area.",
            "There is a small amount of survey and research work, but it is not directed towards the needs "
            "of "
            "management.",
            "There is considerable survey and research work, but it is not directed towards the needs of "
            "management.",
            "There is a comprehensive, integrated programme of survey and research work relevant to "
            "management needs.",
        ),
    ),
    Question(
        12,
        "Resource management",
        "Is active resource management being undertaken?",
        (
            "Active resource management is not being undertaken.",
            "Very few of the requirements for active management of critical habitats, species, ecological "
            "processes and cultural values are being implemented.",
            "Many of the requirements for active management are being implemented, but some key issues are "
            "not "
            "being addressed.",
            "The requirements for active management of critical habitats, species, ecological processes and "
            "cultural values are being substantially or fully implemented.",
        ),
    ),
    Question(
        13,
        "Staff numbers",
        "Are there enough people employed to manage the protected area?",
        (
            "There are no staff.",
            "Staff numbers are inadequate for critical management activities.",
            "Staff numbers are below the optimum level for critical management activities.",
            "Staff numbers are adequate for the management needs of the protected area.",
        ),
    ),
    Question(
        14,
        "Staff training",
        "Are staff adequately trained to fulfil management objectives?",
        (
            "Staff lack the skills needed for protected area management.",
            "Staff training and skills are low relative to the needs of the protected area.",
            "Staff training and skills are adequate, but could be further improved to fully achieve the "
            "objectives of management.",
            "Staff training and skills are aligned with the management needs of the protected area.",
        ),
    ),
    Question(
        15,
        "Current budget",
        "Is the current budget sufficient?",
        (
            "There is no budget for management of the protected area.",
            "The available budget is inadequate for basic management needs and is a serious constraint on "
            "the "
            "capacity to manage.",
            "The available budget is acceptable but could be further improved to fully achieve effective "
            "management.",
            "The available budget is sufficient and meets the full management needs of the protected area.",
        ),
    ),
    Question(
        16,
        "Security of budget",
        "Is the budget secure?",
        (
            "There is no secure budget and management is wholly reliant on outside or highly variable "
            "funding.",
            "There is very little secure budget and the protected area could not function adequately without "
            "outside funding.",
            "There is a reasonably secure core budget for regular operation, but many innovations and "
            "initiatives rely on outside funding.",
            "There is a secure budget for the protected area and its management needs.",
        ),
    ),
    Question(
        17,
        "Management of budget",
        "Is the budget managed to meet critical management needs?",
        (
            "Budget management is very poor and significantly undermines effectiveness (e.g. late release of "
            "the budget in the financial year).",
            "Budget management is poor and constrains effectiveness.",
            "Budget management is adequate but could be improved.",
            "Budget management is excellent and meets management needs.",
        ),
    ),
    Question(
        18,
        "Equipment",
        "Is equipment sufficient for management needs?",
        (
            "There is little or no equipment and few or no facilities for management needs.",
            "There is some equipment and there are some facilities, but they are inadequate for most "
            "management needs.",
            "There is equipment and there are facilities, but still some gaps that constrain management.",
            "There is adequate equipment and there are adequate facilities.",
        ),
    ),
    Question(
        19,
        "Maintenance of equipment",
        "Is equipment adequately maintained?",
        (
            "There is little or no maintenance of equipment and facilities.",
            "There is some ad hoc maintenance of equipment and facilities.",
            "There is basic maintenance of equipment and facilities.",
            "Equipment and facilities are well maintained.",
        ),
    ),
    Question(
        20,
        "Education and awareness",
        "Is there a planned education programme linked to the objectives and needs?",
        (
            "There is no education and awareness programme.",
            "There is a limited and ad hoc education and awareness programme.",
            "There is an education and awareness programme, but it only partly meets needs and could be "
            "improved.",
            "There is an appropriate and fully implemented education and awareness programme.",
        ),
    ),
    Question(
        21,
        "Planning for land and water use",
        "Does land and water use planning recognise the protected area and aid the achievement of "
        "objectives?",
        (
            "Adjacent land and water use planning does not take the needs of the protected area into "
            "account, "
            "and activities or policies are detrimental to the survival of the area.",
            "Adjacent land and water use planning does not take the long-term needs of the protected area "
            "into "
            "account, but activities are not detrimental to the area.",
            "Adjacent land and water use planning partially takes the long-term needs of the protected area "
            "into account.",
            "Adjacent land and water use planning fully takes the long-term needs of the protected area into "
            "account.",
        ),
        (
            (
                "a",
                "Habitat conservation: planning and management in the catchment or landscape containing the "
                "protected area provides for adequate environmental conditions (e.g. volume, quality and "
                "timing of water flow, air pollution) to sustain relevant habitats.",
            ),
            (
                "b",
                "Connectivity: management of corridors linking the protected area provides for wildlife "
                "passage to key habitats outside it (e.g. migratory fish, animal migration).",
            ),
            (
                "c",
                "Ecosystem services and species conservation: planning addresses ecosystem-specific needs or "
                "the needs of particular species of concern at an ecosystem scale.",
            ),
        ),
    ),
    Question(
        22,
        "State and commercial neighbours",
        "Is there co-operation with adjacent land and water users?",
        (
            "There is no contact between managers and neighbouring official or corporate land and water "
            "users.",
            "There is contact between managers and neighbouring official or corporate land and water users, "
            "but little or no co-operation.",
            "There is contact between managers and neighbouring official or corporate land and water users, "
            "but only some co-operation.",
            "There is regular contact between managers and neighbouring official or corporate land and water "
            "users, and substantial co-operation on management.",
        ),
    ),
    Question(
        23,
        "Indigenous people",
        "Do indigenous and traditional peoples living in or regularly using the protected area have input to "
        "management decisions?",
        (
            "Indigenous and traditional peoples have no input into decisions about the management of the "
            "protected area.",
            "Indigenous and traditional peoples have some input into discussions about management, but no "
            "direct role in management.",
            "Indigenous and traditional peoples directly contribute to some relevant decisions about "
            "management, but their involvement could be improved.",
            "Indigenous and traditional peoples directly participate in all relevant decisions about "
            "management, e.g. co-management.",
        ),
    ),
    Question(
        24,
        "Local communities",
        "Do local communities living in or near the protected area have input to management decisions?",
        (
            "Local communities have no input into decisions about the management of the protected area.",
            "Local communities have some input into discussions about management, but no direct role in "
            "management.",
            "Local communities directly contribute to some relevant decisions about management, but their "
            "involvement could be improved.",
            "Local communities directly participate in all relevant decisions about management, e.g. "
            "co-management.",
        ),
        (
            (
                "a",
                "There is open communication and trust between local and indigenous people, stakeholders and "
                "protected area managers.",
            ),
            (
                "b",
                "Programmes to enhance community welfare while conserving protected area resources are being "
                "implemented.",
            ),
            ("c", "Local and indigenous people actively support the protected area."),
        ),
    ),
    Question(
        25,
        "Economic benefit",
        "Is the protected area providing economic benefits to local communities, e.g. income, employment, "
        "payment for environmental services?",
        (
            "The protected area does not deliver any economic benefits to local communities.",
            "Potential economic benefits are recognised and plans to realise them are being developed.",
            "There is some flow of economic benefits to local communities.",
            "There is a major flow of economic benefits to local communities from activities associated with "
            "the protected area.",
        ),
    ),
    Question(
        26,
        "Monitoring and evaluation",
        "Are management activities monitored against performance?",
        (
            "There is no monitoring and evaluation in the protected area.",
            "There is some ad hoc monitoring and evaluation, but no overall strategy or no regular "
            "collection "
            "of results.",
            "There is an agreed and implemented monitoring and evaluation system, but the results do not "
            "feed "
            "back into management.",
            "A good monitoring and evaluation system exists, is well implemented and is used in adaptive "
            "management.",
        ),
    ),
    Question(
        27,
        "Visitor facilities",
        "Are visitor facilities adequate?",
        (
            "There are no visitor facilities and services despite an identified need.",
            "Visitor facilities and services are inappropriate for current levels of visitation.",
            "Visitor facilities and services are adequate for current levels of visitation but could be "
            "improved.",
            "Visitor facilities and services are excellent for current levels of visitation.",
        ),
    ),
    Question(
        28,
        "Commercial tourism operators",
        "Do commercial tour operators contribute to protected area management?",
        (
            "There is little or no contact between managers and tourism operators using the protected area.",
            "There is contact between managers and tourism operators, but it is largely confined to "
            "administrative or regulatory matters.",
            "There is limited co-operation between managers and tourism operators to enhance visitor "
            "experiences and maintain protected area values.",
            "There is good co-operation between managers and tourism operators to enhance visitor "
            "experiences "
            "and maintain protected area values.",
        ),
    ),
    Question(
        29,
        "Fees",
        "If fees (entry fees or fines) are applied, do they help protected area management?",
        (
            "Although fees are theoretically applied, they are not collected.",
            "Fees are collected, but make no contribution to the protected area or its environs.",
            "Fees are collected, and make some contribution to the protected area and its environs.",
            "Fees are collected, and make a substantial contribution to the protected area and its environs.",
        ),
    ),
    Question(
        30,
        "Condition of values",
        "What is the condition of the important values of the protected area compared with when it was first "
        "designated?",
        (
            "Many important biodiversity, ecological or cultural values are being severely degraded.",
            "Some biodiversity, ecological or cultural values are being severely degraded.",
            "Some biodiversity, ecological and cultural values are being partially degraded, but the most "
            "important values have not been significantly affected.",
            "Biodiversity, ecological and cultural values are predominantly intact.",
        ),
        (
            ("a", "The assessment of the condition of values is based on research and/or monitoring."),
            (
                "b",
                "Specific management programmes are being implemented to address threats to biodiversity, "
                "ecological and cultural values.",
            ),
            (
                "c",
                "Activities to maintain key biodiversity, ecological and cultural values are a routine part "
                "of park management.",
            ),
        ),
    ),
)

BONUS_CHOICES = [Choice("mett_bonus", "1", "Yes (+1)"), Choice("mett_bonus", "0", "No")]


def _score(ref: str) -> str:
    return f"if({ref} = '' or {ref} = 'na', 0, number({ref}))"


def _question_rows(question: Question) -> Rows:
    name = question.name
    rows: list[Row] = [
        q(
            f"select_one mett_{name}",
            name,
            f"{question.number}. {question.title}",
            hint=question.question,
            required=True,
            to=f"mett.{name}",
        ),
        q(
            "text",
            f"{name}_comment",
            "Comment and evidence",
            hint="What the score is based on: documents, data, the discussion.",
            appearance="multiline",
            to=f"mett.{name}.comment",
        ),
        q(
            "text",
            f"{name}_next_steps",
            "Next steps",
            appearance="multiline",
            relevant=f"${{{name}}} != 'na'",
            to=f"mett.{name}.next_steps",
        ),
    ]
    for letter, text in question.bonus:
        rows.append(
            q(
                "select_one mett_bonus",
                f"{name}{letter}",
                f"{question.number}{letter}. {text}",
                appearance="horizontal",
                relevant=f"${{{name}}} != 'na'",
                to=f"mett.{name}{letter}",
            )
        )
    return group(f"{name}_page", None, rows, appearance="field-list")


def _answer_choices(question: Question) -> list[Choice]:
    listed = [
        Choice(f"mett_{question.name}", str(score), f"{score}: {text}")
        for score, text in enumerate(question.answers)
    ]
    return [*listed, Choice(f"mett_{question.name}", "na", "Not applicable to this protected area")]


def _summary() -> list[Row]:
    main = " + ".join(_score(f"${{{x.name}}}") for x in QUESTIONS)
    applicable = " + ".join(f"if(${{{x.name}}} = 'na', 0, 1)" for x in QUESTIONS)
    bonus_refs = [f"${{{x.name}{letter}}}" for x in QUESTIONS for letter, _ in x.bonus]
    bonus = " + ".join(f"if({ref} = '1', 1, 0)" for ref in bonus_refs)
    return [
        q("calculate", "score", calculation=main),
        q("calculate", "score_max", calculation=f"3 * ({applicable})"),
        q("calculate", "score_bonus", calculation=bonus),
        q(
            "note",
            "score_note",
            "Score: ${score} of ${score_max} for the applicable questions, plus ${score_bonus} bonus points.",
        ),
    ]


FORM = Form(
    stem="mett",
    form_id="fieldkit_mett",
    title="METT assessment",
    version="2026120201",
    instance_name="concat('METT ', instance('areas')/root/item[name = ${area}]/label, ' ', ${year})",
    languages=ENGLISH_ONLY,
    namespaces=NAMESPACES,
    style="pages",
    survey=[
        q("start", "form_start"),
        q("end", "form_end"),
        *group(
            "assessment",
            "Assessment",
            [
                q(
                    f"select_one_from_file {AREAS_FILE}",
                    "area",
                    "Protected area",
                    required=True,
                    appearance="minimal",
                    to="mett.area",
                ),
                q("calculate", "mett_version", calculation="'METT-3'", to="mett.version"),
                q(
                    "integer",
                    "year",
                    "Year assessed",
                    required=True,
                    default="int(format-date(today(), '%Y'))",
                    constraint=". >= 1990 and . <= number(format-date(today(), '%Y')) + 1",
                    constraint_message="A year from 1990 to next year.",
                    to="mett.year",
                ),
                q(
                    "date",
                    "assessed_on",
                    "Date of the workshop",
                    required=True,
                    default="today()",
                    to="mett.date",
                ),
                q(
                    "text",
                    "assessors",
                    "Assessors",
                    hint="Names and organisations of everyone who took part, one per line.",
                    required=True,
                    appearance="multiline",
                    to="mett.assessors",
                ),
            ],
            appearance="field-list",
        ),
        *[
            group(element, label, [_question_rows(x) for x in QUESTIONS if x.element == element])
            for element, label in ELEMENTS
        ],
        *_summary(),
        q("text", "notes", "Notes on the assessment", appearance="multiline", to="mett.notes"),
    ],
    choices=[*(c for x in QUESTIONS for c in _answer_choices(x)), *BONUS_CHOICES],
)
