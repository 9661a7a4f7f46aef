"""Who may work in which protected area."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from protected_areas.models import ProtectedArea


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
