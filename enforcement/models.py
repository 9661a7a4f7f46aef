"""The evidence ledger's tables (the chain is defined in enforcement.ledger) and the cases
it covers."""

from __future__ import annotations

from django.db import models

from enforcement import ledger


class LedgerHead(models.Model):
    """The head of a chain: one row, locked (SELECT … FOR UPDATE) by every append, so that
    appends are serialised and the chain never forks. It repeats the last entry's sequence
    and hash, which verification compares with the chain's end: removing entries from the
    end shows there."""

    chain = models.CharField(max_length=32, unique=True, default="evidence")
    sequence = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=ledger.GENESIS)

    def __str__(self) -> str:
        return f"{self.chain} {self.sequence}:{self.entry_hash}"

    @property
    def head(self) -> ledger.Head:
        return ledger.Head(self.sequence, self.entry_hash)


class LedgerEntry(models.Model):
    """One entry of the chain, exactly the fields enforcement.ledger hashes. The unique
    sequence and the unique previous hash are a second guard against a fork: two appends
    that both read the same head cannot both be stored."""

    sequence = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=32)
    time = models.DateTimeField()
    actor = models.CharField(max_length=100)
    subject = models.CharField(max_length=300, db_index=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    file = models.CharField(max_length=500, null=True, blank=True)
    previous_hash = models.CharField(max_length=64, unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.sequence} {self.kind} {self.subject}"

    def as_entry(self) -> ledger.Entry:
        return ledger.Entry(
            self.sequence,
            self.kind,
            self.time,
            self.actor,
            self.subject,
            self.content_hash,
            self.file,
            self.previous_hash,
            self.entry_hash,
        )
