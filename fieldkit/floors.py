"""The floors of fieldkit, from the ground up: each package imports only from the floors
below its own (tests/test_floors.py walks every import and holds the code to it).

Packages on one floor do not import each other either. Names of packages still to come are
listed where they will sit; tests/ and bench/ stand outside the building and may import
anything.
"""

from __future__ import annotations

FLOORS: tuple[tuple[str, ...], ...] = (
    ("fieldkit",),  # the ground: settings, the error catalogue, system checks, Celery, db
    ("protected_areas",),  # areas, zones, geometry
    ("accounts",),  # users, roles per area, the access policy
    ("odk_forms",),  # a generic OpenRosa server; calls the processors named in settings
    ("observations",),  # the domain: field records made from submissions
    ("standard_forms",),  # the XLSForms fieldkit ships, and their installation
    ("indicators", "enforcement", "exports"),  # read records, write their own tables
    ("maps", "webhooks", "reports"),  # pages, map data, event deliveries, PDF reports
    ("portal",),  # the top: URLconf, home page, demo data
)
