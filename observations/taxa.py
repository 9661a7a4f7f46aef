# ruff: noqa: E501  (a data table: one taxon per line reads best)
"""The starting species list: animals and trees that rangers in Papua New Guinea's
protected areas record, with their IUCN Red List category and a sensitivity.

The list seeds the Taxon table (observations.reference.sync_reference_data) and the
`taxa.csv` that standard forms read with `select_one_from_file` (taxa_csv()). Agencies
extend it in the admin. Red List categories are as published at the time of writing: check
them against the Red List before a report relies on them.

Sensitivity (Chapman 2020, observations.models.Sensitivity): 0 open, 1 extreme, 2 high,
3 medium, 4 low. It follows the risk that a published location leads to harm — species
targeted by collectors or the wildlife trade, or hunted and threatened — not the Red List
category alone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class TaxonDef:
    slug: str
    scientific_name: str
    common_name: str
    local_names: tuple[str, ...]
    taxon_class: str
    family: str
    iucn: str
    sensitivity: int
    kingdom: str = "Animalia"
    rank: str = "species"


TAXA: tuple[TaxonDef, ...] = (
    # Birds
    TaxonDef("casuarius_casuarius", "Casuarius casuarius", "Southern cassowary", ("Muruk",), "Aves", "Casuariidae", "LC", 3),
    TaxonDef("casuarius_unappendiculatus", "Casuarius unappendiculatus", "Northern cassowary", ("Muruk",), "Aves", "Casuariidae", "LC", 3),
    TaxonDef("goura_scheepmakeri", "Goura scheepmakeri", "Southern crowned pigeon", ("Guria",), "Aves", "Columbidae", "VU", 2),
    TaxonDef("goura_victoria", "Goura victoria", "Victoria crowned pigeon", ("Guria",), "Aves", "Columbidae", "NT", 3),
    TaxonDef("harpyopsis_novaeguineae", "Harpyopsis novaeguineae", "Papuan eagle", ("Taragau",), "Aves", "Accipitridae", "VU", 2),
    TaxonDef("paradisaea_raggiana", "Paradisaea raggiana", "Raggiana bird-of-paradise", ("Kumul",), "Aves", "Paradisaeidae", "LC", 3),
    TaxonDef("psittrichas_fulgidus", "Psittrichas fulgidus", "Pesquet's parrot", ("Kokomo",), "Aves", "Psittaculidae", "VU", 2),
    TaxonDef("probosciger_aterrimus", "Probosciger aterrimus", "Palm cockatoo", ("Koki",), "Aves", "Cacatuidae", "LC", 3),
    TaxonDef("cacatua_galerita", "Cacatua galerita", "Sulphur-crested cockatoo", ("Koki",), "Aves", "Cacatuidae", "LC", 0),
    TaxonDef("megapodius_reinwardt", "Megapodius reinwardt", "Orange-footed scrubfowl", ("Wailkaka",), "Aves", "Megapodiidae", "LC", 0),
    # Mammals
    TaxonDef("dendrolagus_matschiei", "Dendrolagus matschiei", "Matschie's tree-kangaroo", ("Kapul", "Ting"), "Mammalia", "Macropodidae", "EN", 2),
    TaxonDef("dendrolagus_goodfellowi", "Dendrolagus goodfellowi", "Goodfellow's tree-kangaroo", ("Kapul",), "Mammalia", "Macropodidae", "EN", 2),
    TaxonDef("dendrolagus_scottae", "Dendrolagus scottae", "Tenkile", ("Tenkile",), "Mammalia", "Macropodidae", "CR", 1),
    TaxonDef("zaglossus_bartoni", "Zaglossus bartoni", "Eastern long-beaked echidna", ("Sikau",), "Mammalia", "Tachyglossidae", "CR", 2),
    TaxonDef("notamacropus_agilis", "Notamacropus agilis", "Agile wallaby", ("Sikau",), "Mammalia", "Macropodidae", "LC", 0),
    TaxonDef("thylogale_brunii", "Thylogale brunii", "Dusky pademelon", ("Sikau",), "Mammalia", "Macropodidae", "VU", 3),
    TaxonDef("spilocuscus_maculatus", "Spilocuscus maculatus", "Common spotted cuscus", ("Kapul",), "Mammalia", "Phalangeridae", "LC", 0),
    TaxonDef("phalanger_gymnotis", "Phalanger gymnotis", "Ground cuscus", ("Kapul",), "Mammalia", "Phalangeridae", "LC", 0),
    TaxonDef("dugong_dugon", "Dugong dugon", "Dugong", ("Bonara",), "Mammalia", "Dugongidae", "VU", 2),
    TaxonDef("sus_scrofa", "Sus scrofa", "Wild pig (introduced)", ("Pik bus",), "Mammalia", "Suidae", "LC", 0),
    TaxonDef("rusa_timorensis", "Rusa timorensis", "Rusa deer (introduced)", ("Dia",), "Mammalia", "Cervidae", "VU", 0),
    # Reptiles
    TaxonDef("crocodylus_porosus", "Crocodylus porosus", "Saltwater crocodile", ("Pukpuk",), "Reptilia", "Crocodylidae", "LC", 3),
    TaxonDef("crocodylus_novaeguineae", "Crocodylus novaeguineae", "New Guinea crocodile", ("Pukpuk",), "Reptilia", "Crocodylidae", "LC", 3),
    TaxonDef("chelonia_mydas", "Chelonia mydas", "Green turtle", ("Trausel",), "Reptilia", "Cheloniidae", "EN", 2),
    TaxonDef("eretmochelys_imbricata", "Eretmochelys imbricata", "Hawksbill turtle", ("Trausel",), "Reptilia", "Cheloniidae", "CR", 1),
    TaxonDef("dermochelys_coriacea", "Dermochelys coriacea", "Leatherback turtle", ("Trausel",), "Reptilia", "Dermochelyidae", "VU", 1),
    TaxonDef("carettochelys_insculpta", "Carettochelys insculpta", "Pig-nosed turtle", ("Trausel",), "Reptilia", "Carettochelyidae", "EN", 2),
    # Insects and marine invertebrates
    TaxonDef("ornithoptera_alexandrae", "Ornithoptera alexandrae", "Queen Alexandra's birdwing", ("Bataplai",), "Insecta", "Papilionidae", "EN", 1),
    TaxonDef("holothuria_scabra", "Holothuria scabra", "Sandfish sea cucumber", ("Bech-de-mer",), "Holothuroidea", "Holothuriidae", "EN", 3),
    # Trees
    TaxonDef("intsia_bijuga", "Intsia bijuga", "Kwila", ("Kwila",), "Magnoliopsida", "Fabaceae", "VU", 0, kingdom="Plantae"),
    TaxonDef("pterocarpus_indicus", "Pterocarpus indicus", "Rosewood (narra)", ("Rosewud",), "Magnoliopsida", "Fabaceae", "EN", 0, kingdom="Plantae"),
)  # fmt: skip


def by_slug() -> dict[str, TaxonDef]:
    return {t.slug: t for t in TAXA}


def taxa_csv() -> str:
    """The species list for `select_one_from_file taxa.csv`: name = taxon slug (what the
    form sends), labels in English and Tok Pisin, and columns for choice filters."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "label", "label::Tok Pisin", "scientific_name", "iucn", "taxon_class"])
    for t in TAXA:
        local = t.local_names[0] if t.local_names else t.common_name
        writer.writerow(
            [t.slug, f"{t.common_name} ({t.scientific_name})", f"{local} ({t.scientific_name})",
             t.scientific_name, t.iucn, t.taxon_class]
        )  # fmt: skip
    return out.getvalue()
