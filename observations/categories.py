# ruff: noqa: E501  (a data table: one category per line reads best)
"""The observation category tree, as data.

Slugs are stable keys: forms send them (directly, or through the `fieldkit` column of a
choices sheet, see observations.vocabulary), indicators group by their prefix
(`human_activity.weapons` covers every weapon), and labels can change without touching
records. Items are never removed: a retired category is set `active=False`.

The tree follows SMART's default data model (Human Activity / Animals / Features, with the
Weapons & Equipment, Timber, NTFP, Land Clearing, Rocks & Minerals, Sign and Carcass
branches) and folds in EarthRanger's default event types: `earthranger` names the ER event
type a category corresponds to, taken from EarthRanger's default event-type fixtures
(PADAS/er-server, Apache-2.0). The slugs and labels are fieldkit's own.

Each category belongs to one vertical, which decides the detail table its observations
get by default (an observation can get more: a snared carcass is biodiversity *and*
illicit when the form fills the illicit questions too):

- `illicit`: IllicitActivity (poaching, weapons, camps, arrests, encroachment)
- `resource_use`: ResourceUse (timber, firewood, NTFP, fish, bushmeat, clearing, minerals)
- `biodiversity`: SpeciesObservation (sightings, sign, carcasses, camera traps)
- `other`: no detail table (features, fire, infrastructure, positions)

Tok Pisin labels are working translations, to be reviewed by the agency's rangers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

Vertical = Literal["illicit", "resource_use", "biodiversity", "other"]
VERTICALS: tuple[Vertical, ...] = ("illicit", "resource_use", "biodiversity", "other")


@dataclass(frozen=True)
class CategoryDef:
    slug: str
    vertical: Vertical
    label_en: str
    label_tpi: str
    # The EarthRanger default event type this category corresponds to, if any.
    earthranger: str = ""
    active: bool = True

    @property
    def parent(self) -> str:
        return self.slug.rpartition(".")[0]

    @property
    def depth(self) -> int:
        return self.slug.count(".")


def _c(
    slug: str, vertical: Vertical, en: str, tpi: str, earthranger: str = "", active: bool = True
) -> CategoryDef:
    return CategoryDef(slug, vertical, en, tpi, earthranger, active)


# Parents come before their children: the list is also the display order.
CATEGORIES: tuple[CategoryDef, ...] = (
    # --- Human activity -------------------------------------------------------------
    _c("human_activity", "illicit", "Human activity", "Wok bilong ol manmeri"),
    _c("human_activity.people", "illicit", "People encountered", "Bungim ol manmeri", "activity_rep"),
    _c("human_activity.human_sign", "illicit", "Human sign (footprints, cut marks)", "Mak bilong manmeri", "spoor_rep"),
    _c("human_activity.camp", "illicit", "Shelter or camp", "Haus kunai o kem", "poacher_camp_rep"),
    _c("human_activity.encroachment", "illicit", "Illegal entry or encroachment", "Go insait nating"),
    _c("human_activity.gunshot", "illicit", "Gunshot heard", "Harim pairap bilong gan", "shot_rep"),
    _c("human_activity.weapons", "illicit", "Weapons and equipment", "Ol samting bilong kilim abus"),
    _c("human_activity.weapons.snare", "illicit", "Snare", "Rop trap", "snare_rep"),
    _c("human_activity.weapons.trap", "illicit", "Trap (pit, deadfall, cage)", "Trap"),
    _c("human_activity.weapons.firearm", "illicit", "Firearm", "Gan"),
    _c("human_activity.weapons.homemade_gun", "illicit", "Homemade gun", "Hom-mek gan"),
    _c("human_activity.weapons.cutting_tool", "illicit", "Cutting tool (bush knife, axe, chainsaw)", "Busnaip, akis o sensa"),
    _c("human_activity.weapons.traditional", "illicit", "Traditional weapon (bow, spear)", "Banara na spia"),
    _c("human_activity.weapons.fishing_tool", "illicit", "Fishing tool (net, spear gun)", "Umben na spia bilong pis"),
    _c("human_activity.weapons.poison", "illicit", "Poison", "Posin"),
    _c("human_activity.weapons.explosive", "illicit", "Explosives", "Paura bilong pairap"),
    _c("human_activity.transport", "illicit", "Vehicle or boat", "Ka o bot", "traffic_rep"),
    # Retired: an arrest or a confiscation is an action on an activity (Counting rules below).
    _c("human_activity.arrest", "illicit", "Arrest", "Kalabusim man", "arrest_rep", active=False),
    _c("human_activity.confiscation", "illicit", "Confiscation", "Kisim ol samting nogut", "confiscation_rep", active=False),
    _c("human_activity.pollution", "illicit", "Pollution or dumping", "Doti na pipia"),
    _c("human_activity.timber", "resource_use", "Timber", "Diwai"),
    _c("human_activity.timber.logs", "resource_use", "Logs", "Log"),
    _c("human_activity.timber.firewood", "resource_use", "Firewood", "Paiawut"),
    _c("human_activity.timber.cut_pieces", "resource_use", "Cut pieces", "Hap diwai ol i katim"),
    _c("human_activity.timber.stump", "resource_use", "Stump", "As bilong diwai"),
    _c("human_activity.timber.planks", "resource_use", "Planks", "Plang"),
    _c("human_activity.timber.charcoal", "resource_use", "Charcoal", "Sakol"),
    _c("human_activity.ntfp", "resource_use", "Non-timber forest products", "Ol narapela samting bilong bus"),
    _c("human_activity.ntfp.eaglewood", "resource_use", "Eaglewood (gaharu)", "Garu"),
    _c("human_activity.ntfp.rattan", "resource_use", "Rattan (cane)", "Kanda"),
    _c("human_activity.ntfp.food_plants", "resource_use", "Wild food plants", "Kaikai bilong bus"),
    _c("human_activity.ntfp.medicinal", "resource_use", "Medicinal plants", "Marasin bilong bus"),
    _c("human_activity.ntfp.building", "resource_use", "Building materials (thatch, bamboo)", "Samting bilong wokim haus"),
    _c("human_activity.hunting", "resource_use", "Hunting and bushmeat", "Painim abus"),
    _c("human_activity.hunting.bushmeat", "resource_use", "Bushmeat", "Mit bilong abus"),
    _c("human_activity.hunting.animal_parts", "resource_use", "Animal parts (skins, plumes, shells)", "Skin, gras na bun bilong abus"),
    _c("human_activity.hunting.live_capture", "resource_use", "Live capture (birds, reptiles)", "Holim abus i stap laip"),
    _c("human_activity.fishing", "resource_use", "Fishing", "Huk pis"),
    _c("human_activity.fishing.net", "resource_use", "Net fishing", "Umben"),
    _c("human_activity.fishing.line", "resource_use", "Hook and line", "Huk na rop"),
    _c("human_activity.fishing.spear", "resource_use", "Spear fishing", "Sutim pis"),
    _c("human_activity.fishing.shellfish", "resource_use", "Shellfish and sea cucumber", "Sel na beche-de-mer"),
    _c("human_activity.clearing", "resource_use", "Land clearing", "Katim bus"),
    _c("human_activity.clearing.garden", "resource_use", "Food garden", "Gaden kaikai"),
    _c("human_activity.clearing.plantation", "resource_use", "Cash-crop plantation", "Plantesen"),
    _c("human_activity.mining", "resource_use", "Rocks and minerals", "Ston na gol"),
    _c("human_activity.mining.gold", "resource_use", "Alluvial gold", "Wasim gol"),
    _c("human_activity.mining.gravel", "resource_use", "Sand and gravel", "San na ston"),
    _c("human_activity.domestic_animals", "other", "Domestic animals (pigs, dogs)", "Pik na dok bilong ples"),
    _c("human_activity.fire", "other", "Fire", "Paia", "fire_rep"),
    _c("human_activity.infrastructure", "other", "Infrastructure (roads, buildings)", "Rot na haus"),
    # --- Animals --------------------------------------------------------------------
    _c("animals", "biodiversity", "Animals", "Ol abus"),
    _c("animals.live", "biodiversity", "Live animals", "Abus i stap laip", "wildlife_sighting_rep"),
    _c("animals.sign", "biodiversity", "Animal sign", "Mak bilong abus"),
    _c("animals.sign.track", "biodiversity", "Tracks", "Lek mak"),
    _c("animals.sign.dung", "biodiversity", "Dung", "Pekpek"),
    _c("animals.sign.nest", "biodiversity", "Nest or burrow", "Haus bilong abus"),
    _c("animals.sign.call", "biodiversity", "Call heard", "Harim krai"),
    _c("animals.sign.feeding", "biodiversity", "Feeding sign", "Mak bilong kaikai"),
    _c("animals.carcass", "biodiversity", "Carcass", "Bodi bilong abus i dai", "carcass_rep"),
    _c("animals.injured", "biodiversity", "Injured animal", "Abus i kisim bagarap", "injured_animal_rep"),
    _c("animals.camera_trap", "biodiversity", "Camera-trap record", "Piksa bilong kamera trap", "cameratrap_rep"),
    _c("animals.conflict", "biodiversity", "Human–wildlife conflict", "Abus i bagarapim gaden", "hwc_rep"),
    _c("animals.invasive", "biodiversity", "Invasive species", "Abus o plaua bilong narapela hap", "invasive_species_rep"),
    # --- Plants ---------------------------------------------------------------------
    _c("plants", "biodiversity", "Plants", "Ol plaua na diwai"),
    _c("plants.notable", "biodiversity", "Notable plant (rare, flowering, fruiting)", "Plaua o diwai i narapela kain"),
    # --- Features and positions -----------------------------------------------------
    _c("features", "other", "Features", "Ol hap"),
    _c("features.boundary_marker", "other", "Boundary marker", "Mak bilong arere"),
    _c("features.water", "other", "Water source", "Wara"),
    _c("features.landslide", "other", "Landslide or erosion", "Graun i bruk"),
    _c("features.rainfall", "other", "Rainfall", "Ren", "rainfall_rep"),
    _c("position", "other", "Position", "Ples"),
    _c("other", "other", "Other", "Narapela"),
)  # fmt: skip


@cache
def by_slug() -> dict[str, CategoryDef]:
    return {c.slug: c for c in CATEGORIES}


def is_known(slug: str) -> bool:
    return slug in by_slug()


def vertical_of(slug: str) -> Vertical:
    category = by_slug().get(slug)
    return category.vertical if category else "other"


def ancestors(slug: str) -> list[str]:
    """`a.b.c` → [`a`, `a.b`, `a.b.c`]."""
    parts = slug.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


# --- What a category implies ---------------------------------------------------------------

# The resource kind (observations.models.ResourceKind) a resource-use category implies when
# the form does not ask; the standard resource-use form computes the same from its category.
RESOURCE_KIND_BY_CATEGORY = {
    "human_activity.timber.firewood": "firewood",
    "human_activity.timber": "timber",
    "human_activity.ntfp": "ntfp",
    "human_activity.hunting": "bushmeat",
    "human_activity.fishing": "fish",
    "human_activity.clearing": "clearing",
    "human_activity.mining": "minerals",
}
# The evidence (observations.models.Evidence) a species category implies when the form does
# not ask; the standard species form gives the category from the evidence the other way.
EVIDENCE_BY_CATEGORY = {
    "animals.live": "direct",
    "animals.sign.track": "track",
    "animals.sign.dung": "dung",
    "animals.sign.call": "call",
    "animals.sign.nest": "nest",
    "animals.sign": "sign",
    "animals.carcass": "carcass",
    "animals.camera_trap": "camera_trap",
}


# --- Counting rules ------------------------------------------------------------------------
#
# What a record counts as, so that indicators count each thing once and in the right place
# (tests/test_counting_rules.py):
#
# 1. Species richness, Chao1 and occurrence exports count only taxa recorded as wild
#    animals or plants seen alive or as sign: `animals` and `plants` categories but
#    carcasses. A taxon named on bushmeat, animal parts, live capture, a carcass or
#    anything else under `human_activity` is kept on its SpeciesObservation (for cases and
#    trade figures) with `is_occurrence` False, unless the form answers
#    `species.occurrence` yes (a survey that counts fresh carcasses as presence).
# 2. An arrest or a confiscation is an action taken about an activity
#    (IllicitAction), never a category record of its own: the categories
#    `human_activity.arrest` and `human_activity.confiscation` are retired, and an
#    observation a form still sends under them is recorded under ACTION_CATEGORIES' category
#    with the action added.
# 3. An activity has every action taken about it (arrested *and* confiscated): the
#    `illicit.action_taken` answer is a list.
# 4. What was seized or destroyed is a list of items with kind, quantity and unit
#    (SeizedItem), not free text; a free-text answer becomes one item of kind `other`.

# Categories under which nothing is a wild occurrence, whatever taxon is named.
NOT_OCCURRENCE = ("human_activity", "animals.carcass")
# Retired category → (the action it stands for, the category the observation is recorded under).
ACTION_CATEGORIES = {
    "human_activity.arrest": ("arrested", "human_activity.people"),
    "human_activity.confiscation": ("confiscated", "human_activity"),
}


def is_occurrence(category: str, evidence: str = "") -> bool:
    """Whether a species record of this category (and evidence) says the taxon lives
    here: rule 1 above."""
    if evidence == "carcass":
        return False
    return not any(category == slug or category.startswith(slug + ".") for slug in NOT_OCCURRENCE)


def implied(table: dict[str, str], category: str) -> str:
    """The value `table` gives the most specific ancestor of `category` it holds, or ""."""
    for slug in reversed(ancestors(category)):
        if slug in table:
            return table[slug]
    return ""
