"""Reference data in the database: the category tree and the species list.

Both are kept in code (observations.categories, observations.taxa) and synced into their
tables, idempotently: a migration does it once, `sync_reference_data` again after an
upgrade. Rows are updated or added, never deleted (records point to them); a category or
taxon dropped from the code is only set inactive. The functions take the model classes so
that migrations can pass their historical models.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from observations import categories, taxa

# Sensitivity of a taxon added from a species list without one (Chapman 2020 categories):
# threatened taxa are generalised, the more threatened the coarser. Curated values in
# observations.taxa, or set in the admin, are never overwritten by this default.
DEFAULT_SENSITIVITY = {"CR": 2, "EN": 3, "VU": 4}
PLANT_CLASSES = {"Magnoliopsida", "Liliopsida", "Pinopsida", "Polypodiopsida", "Cycadopsida"}


def sync_reference_data() -> tuple[int, int]:
    """Categories and the species list from code into their tables (idempotent)."""
    from observations.models import Category, Taxon

    return sync_categories(Category), sync_taxa(Taxon)


def sync_categories(category_model: Any) -> int:
    known = set(category_model.objects.values_list("slug", flat=True))
    defined = set()
    # Parents come first in CATEGORIES, so the parent row exists when a child points to it.
    for order, c in enumerate(categories.CATEGORIES):
        defined.add(c.slug)
        category_model.objects.update_or_create(
            slug=c.slug,
            defaults={
                "parent_id": c.parent or None,
                "depth": c.depth,
                "vertical": c.vertical,
                "label_en": c.label_en,
                "label_tpi": c.label_tpi,
                "earthranger_event_type": c.earthranger,
                "active": c.active,
                "order": order,
            },
        )
    category_model.objects.filter(slug__in=known - defined).update(active=False)
    return len(defined)


def sync_taxa(taxon_model: Any) -> int:
    for t in taxa.TAXA:
        taxon_model.objects.update_or_create(
            slug=t.slug,
            defaults={
                "scientific_name": t.scientific_name,
                "common_name": t.common_name,
                "local_names": list(t.local_names),
                "rank": t.rank,
                "kingdom": t.kingdom,
                "taxon_class": t.taxon_class,
                "family": t.family,
                "iucn_category": t.iucn,
                "sensitivity": t.sensitivity,
            },
        )
    return len(taxa.TAXA)


def sync_taxa_csv(taxon_model: Any, text: str) -> tuple[int, int]:
    """Add or update taxa from a species list in the standard forms' taxa.csv layout (name,
    label, scientific_name, iucn, class, group). Rows without a scientific name (`other_bird`,
    `unknown`) are answers, not taxa, and are skipped. Returns (created, updated)."""
    created = updated = 0
    for row in csv.DictReader(io.StringIO(text)):
        slug = (row.get("name") or "").strip()
        scientific_name = (row.get("scientific_name") or "").strip()
        if not slug or not scientific_name:
            continue
        iucn = (row.get("iucn") or "NE").strip().upper() or "NE"
        taxon_class = (row.get("class") or "").strip()
        label = (row.get("label") or "").strip()
        is_plant = taxon_class in PLANT_CLASSES or row.get("group") == "plant"
        values = {
            "slug": slug,
            "scientific_name": scientific_name,
            "common_name": label.split(" (")[0] if label else "",
            "iucn_category": iucn,
            "taxon_class": taxon_class,
            "kingdom": "Plantae" if is_plant else "Animalia",
        }
        existing = (
            taxon_model.objects.filter(slug=slug).first()
            or taxon_model.objects.filter(scientific_name=scientific_name).first()
        )
        if existing is None:
            taxon_model.objects.create(**values, sensitivity=DEFAULT_SENSITIVITY.get(iucn, 0))
            created += 1
        else:
            # A curated row keeps its names and sensitivity; the list updates the status.
            changed = existing.iucn_category != iucn
            existing.iucn_category = iucn
            existing.taxon_class = existing.taxon_class or taxon_class
            if changed:
                existing.save(update_fields=["iucn_category", "taxon_class"])
                updated += 1
    return created, updated
