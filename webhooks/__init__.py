"""Webhooks: subscribers hear of submissions, field records and cases created or edited
(fieldkit.events), as JSON signed with HMAC-SHA256, retried with back-off, every attempt
logged."""
