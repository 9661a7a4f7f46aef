"""Per-area indicators: effort, encounter rates, biodiversity, resource use, METT and finance.

`formulas` holds the arithmetic, pure and checkable by hand; the database work that feeds
it lives apart from it.
"""
