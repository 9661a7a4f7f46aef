"""Alerts: law-enforcement users told by e-mail when an illicit-activity record matching one
of their rules arrives (category subtree, area), after the phone has its answer.

`match_submission` is a submission processor (settings.ODK_FORMS_SUBMISSION_PROCESSORS): it
runs when a submission is processed, in the background, and records a PendingAlert per
matching rule and record. `send_due_digests` (Celery beat every minute, and queued after
each match) sends each rule's pending alerts as one digest per interval: the interval is
claimed by a conditional UPDATE of the rule's next_digest_at, so two workers never send the
same digest, and a burst of reports makes one mail, not a burst.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import current_app
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from enforcement import permissions
from enforcement.models import AlertLog, AlertRule, PendingAlert
from observations.models import Category, Observation

logger = logging.getLogger(__name__)

DIGEST_TASK = "enforcement.send_alert_digests"


def match_submission(submission: Any, xml: bytes) -> None:
    """The processor: pending alerts for the illicit records of `submission`."""
    rules = list(AlertRule.objects.filter(active=True).values_list("pk", "area_id", "category"))
    if not rules:
        return
    records = list(
        Observation.objects.filter(submission=submission, illicit__isnull=False).values_list(
            "record_uuid", "area_id", "category_id", "time"
        )
    )
    now = timezone.now()
    matched = []
    for record_uuid, area_id, slug, time in records:
        category = str(slug or "")  # the category's slug (the foreign key's to_field)
        for rule_id, rule_area, rule_category in rules:
            if (
                area_id == rule_area
                and category
                and (category == rule_category or category.startswith(rule_category + "."))
            ):
                matched.append(
                    PendingAlert(
                        rule_id=rule_id,
                        record_uuid=record_uuid,
                        category=category,
                        observed_at=time,
                        created=now,
                    )
                )
    if matched:
        # Reprocessing the same submission matches the same records: kept once.
        PendingAlert.objects.bulk_create(matched, ignore_conflicts=True)
        transaction.on_commit(queue_digests)


def queue_digests() -> None:
    try:
        current_app.tasks[DIGEST_TASK].delay()
    except Exception:
        logger.exception("Could not queue the alert digests; beat sends them within a minute")


def send_due_digests(now: Any = None) -> int:
    """Send the digest of every rule with pending alerts whose interval is free. Returns the
    number of digests sent."""
    now = now or timezone.now()
    due = (
        AlertRule.objects.filter(active=True, pending__log__isnull=True)
        .filter(Q(next_digest_at__isnull=True) | Q(next_digest_at__lte=now))
        .distinct()
    )
    sent = 0
    for rule in due:
        if _claim(rule, now):
            sent += _send(rule, now)
    return sent


def _claim(rule: AlertRule, now: Any) -> bool:
    """Take the rule's current interval: only one worker's UPDATE matches."""
    free = Q(next_digest_at__isnull=True) | Q(next_digest_at__lte=now)
    claimed = AlertRule.objects.filter(free, pk=rule.pk, next_digest_at=rule.next_digest_at).update(
        next_digest_at=now + timedelta(minutes=rule.window_minutes)
    )
    return claimed == 1


def _send(rule: AlertRule, now: Any) -> int:
    with transaction.atomic():
        log = AlertLog.objects.create(rule=rule, at=now)
        PendingAlert.objects.filter(rule=rule, log__isnull=True).update(log=log)
    alerts = list(log.alerts.order_by("observed_at", "created"))
    if not alerts:
        log.delete()
        return 0
    users = [
        u
        for u in rule.recipients.filter(is_active=True)
        if u.email and permissions.may_get_alerts(u, rule.area_id)
    ]
    log.records = len(alerts)
    log.recipients = [u.username for u in users]
    if users:
        try:
            send_mail(_subject(rule, alerts), _body(rule, alerts), None, [u.email for u in users])
        except Exception as exc:  # a mail server down: logged, the rule's next interval goes on
            logger.exception("Alert digest for rule %s not sent", rule.pk)
            log.error = str(exc)[:1000]
    log.save(update_fields=["records", "recipients", "error"])
    return 1


def _subject(rule: AlertRule, alerts: Iterable[PendingAlert]) -> str:
    count = len(list(alerts))
    return (
        f"[fieldkit] {rule.get_priority_display()}: {count} record{'s' if count != 1 else ''} for {rule.name}"
    )


def _body(rule: AlertRule, alerts: list[PendingAlert]) -> str:
    labels = dict(
        Category.objects.filter(slug__in={a.category for a in alerts}).values_list("slug", "label_en")
    )
    lines = [f"{len(alerts)} new record(s) match the rule {rule.name!r} ({rule.area}):", ""]
    for alert in alerts:
        when = f"{alert.observed_at:%Y-%m-%d %H:%M} UTC" if alert.observed_at else "time unknown"
        lines.append(f"- {labels.get(alert.category, alert.category)}, {when} (record {alert.record_uuid})")
    lines += ["", "Open the case list to take them up: /cases/"]
    return "\n".join(lines)
