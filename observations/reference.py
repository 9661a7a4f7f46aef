"""Reference data in the database: the category tree and the species list.

Both are kept in code (observations.categories, observations.taxa) and synced into their
tables, idempotently: a migration does it once, `sync_reference_data` again after an
upgrade. Rows are updated or added, never deleted (records point to them); a category or
taxon dropped from the code is only set inactive. The functions take the model classes so
that migrations can pass their historical models.
"""

from __future__ import annotations

from typing import Any

from observations import categories, taxa


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
