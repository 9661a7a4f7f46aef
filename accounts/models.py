"""Who may work in which protected area."""

from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models

from protected_areas.models import ProtectedArea


def digest_ha1(username: str, realm: str, password: str) -> str:
    """HA1 of HTTP Digest (RFC 2617): MD5(username:realm:password)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()  # noqa: S324


class UserManager(DjangoUserManager):
    def _create_user_object(self, username, email, password, **extra_fields):  # type: ignore[no-untyped-def]
        # Django's create_user() and createsuperuser store make_password(password) directly,
        # bypassing set_password(): without this, their users would have no HA1 and could
        # not sign in to ODK Collect with Digest.
        user = super()._create_user_object(username, email, password, **extra_fields)
        user.set_password(password)
        return user


class User(AbstractUser):
    # Digest authentication needs HA1, which cannot be derived from the password hash; it
    # is computed whenever the password is set, through any path (admin, commands, API).
    digest_ha1 = models.CharField(max_length=32, blank=True, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._username_at_load = self.username

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        if raw_password is None:
            self.digest_ha1 = ""
        else:
            self.digest_ha1 = digest_ha1(self.username, settings.OPENROSA_REALM, raw_password)
        self._username_at_load = self.username

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self.digest_ha1 = ""

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # HA1 hashes the username in: after a rename it can never match again, and keeping
        # it would only suggest Digest works. The next set_password() computes a new one.
        if self.pk and self.username != self._username_at_load:
            self.digest_ha1 = ""
        super().save(*args, **kwargs)
        self._username_at_load = self.username


class Role(models.TextChoices):
    """What a user does in an area; what each role may do is accounts.access.CAPABILITIES."""

    # Manages the area: forms, users, all records.
    MANAGER = "manager", "Manager"
    # Ranger supervisor or data manager: reviews and edits records of the area.
    MEMBER = "member", "Member"
    # Sends data from the field (ODK Collect, web forms) and sees only its own forms.
    COLLECTOR = "collector", "Data collector"
    # Reads published indicators and maps, without sensitive locations or personal data.
    VIEWER = "viewer", "Viewer (NGO, donor)"
    # Wildlife-crime unit: illicit-activity records and cases, with personal data and exact
    # locations.
    LAW_ENFORCEMENT = "law_enforcement", "Law enforcement"


class AreaMembership(models.Model):
    """A role in one protected area, or, with `national`, in every area, present and future
    (a national data manager, a wildlife-crime unit, a funder reviewing the whole system)
    without a row per area. Exactly one of `area` and `national` is set."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="area_memberships"
    )
    area = models.ForeignKey(
        ProtectedArea, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    national = models.BooleanField(
        default=False, help_text="The role holds in every protected area, present and future."
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "area"], name="membership_unique_user_area"),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(national=True), name="membership_unique_user_national"
            ),
            models.CheckConstraint(
                condition=models.Q(area__isnull=False, national=False)
                | models.Q(area__isnull=True, national=True),
                name="membership_area_xor_national",
            ),
        ]
        indexes = [models.Index(fields=["user", "role"], name="membership_user_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} – {self.area if self.area_id else 'all areas'} ({self.role})"


def new_collector_token() -> str:
    # 32 random bytes: 43 URL-safe characters, unguessable and safe in a URL path.
    return secrets.token_urlsafe(32)


class CollectorToken(models.Model):
    """A secret put in the server URL (`/key/<token>/...`) of a collector's phone.

    It is handed over as a Collect settings QR code, so nobody types a password in the
    field; revoking it cuts off a lost phone without touching the user's other devices.
    The token is kept in clear, as ODK Central does, so that its QR code can be printed again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collector_tokens"
    )
    # Unique, hence indexed: authentication is one lookup by this column.
    token = models.CharField(max_length=64, unique=True, default=new_collector_token, editable=False)
    label = models.CharField(max_length=100, blank=True, help_text="Which phone or team, e.g. 'Tablet 3'.")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user} – {self.label or self.token[:6] + '…'}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DigestNonce(models.Model):
    """The highest nonce count (nc) accepted with each Digest nonce still in its lifetime.

    A client signs each request with the nonce and a count it raises every time; a count
    not above the one recorded is a replayed Authorization header (or a request overtaken
    by a later one, which the client signs again with a fresh nonce after `stale=true`).
    The table is shared by every worker process, unlike the nonces themselves, which are
    stateless (accounts.openrosa_auth). Rows of expired nonces are deleted as new nonces
    come into use.
    """

    nonce = models.CharField(max_length=100, primary_key=True)
    nc = models.BigIntegerField()
    # When the nonce was issued (Unix seconds, from the nonce itself).
    issued = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.nonce} nc={self.nc}"


class AppendOnly(Exception):
    """An audit row was about to be changed or deleted."""


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    # Bulk paths bypass Model.save()/delete(): they are closed too.
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnly("access events are never changed")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AppendOnly("access events are never deleted")

    def bulk_update(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnly("access events are never changed")


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed"
    EXPORT = "export", "Exported"
    DOWNLOAD = "download", "Downloaded"


class AccessEvent(models.Model):
    """Who saw exact sensitive locations or personal data, when, what and from where.

    Append-only: written by accounts.access.record_access whenever such data leaves the
    server (a page, an API answer, an export, a photo with its GPS tags); the model refuses
    updates and deletes, through instances and querysets alike. The user is kept by name as
    well, so that the trail outlives the account.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=16, choices=AccessAction.choices)
    # The record seen, as "app_label.model" and its primary key, and what of it.
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    fields = models.JSONField(default=list)
    # The area of the record: managers of the area read the trail of their area.
    area = models.ForeignKey(
        ProtectedArea, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=500, blank=True)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["area", "at"], name="accessevent_area_at_idx")]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.object_type} {self.object_id} {self.fields}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise AppendOnly("access events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnly("access events are never deleted")
