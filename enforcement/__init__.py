"""Law enforcement: cases followed from a field report to a court outcome, and the evidence
ledger that shows their record has not been tampered with (ledger.py)."""
