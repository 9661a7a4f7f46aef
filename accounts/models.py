"""Who may work in which protected area."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from protected_areas.models import ProtectedArea


def digest_ha1(username: str, realm: str, password: str) -> str:
    """HA1 of HTTP Digest (RFC 2617): MD5(username:realm:password)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()  # noqa: S324


class User(AbstractUser):
    # Digest authentication needs HA1, which cannot be derived from the password hash; it
    # is computed whenever the password is set, through any path (admin, commands, API).
    digest_ha1 = models.CharField(max_length=32, blank=True, editable=False)

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        if raw_password is None:
            self.digest_ha1 = ""
        else:
            self.digest_ha1 = digest_ha1(self.username, settings.OPENROSA_REALM, raw_password)


class Role(models.TextChoices):
    # Manages the area: forms, users, all records.
    MANAGER = "manager", "Manager"
    # Reviews and edits records of the area.
    MEMBER = "member", "Member"
    # Sends data from the field (ODK Collect, web forms) and sees only its own forms.
    COLLECTOR = "collector", "Data collector"
    # Reads published indicators and maps, without sensitive locations or personal data.
    VIEWER = "viewer", "Viewer (NGO, donor)"


class AreaMembership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="area_memberships"
    )
    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "area"], name="membership_unique_user_area"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.area} ({self.role})"
