"""State changes of accounts: memberships, collectors and their tokens, and ODK Collect
set-up codes."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import access
from accounts.access import Capability
from accounts.models import AreaMembership, CollectorToken, Role, User
from fieldkit import errors
from protected_areas.models import ProtectedArea

# Shown in Collect's project switcher.
PROJECT_COLOR = "#2e7d32"


@transaction.atomic
def create_collector(
    username: str, area_ids: Iterable[int], password: str | None = None, label: str = ""
) -> tuple[User, CollectorToken]:
    """A new user sending data to `area_ids`, and a token for its phone.

    Without a password the user can only use the token URL: Digest and Basic stay off,
    because there is no HA1 and the password hash is unusable. Raises a Problem, with
    nothing created, when an area does not exist or the username or password is refused.
    """
    wanted = sorted(set(area_ids))
    if not wanted:
        raise errors.COLLECTOR_NO_AREA()
    areas = list(ProtectedArea.objects.filter(id__in=wanted).order_by("id"))
    missing = sorted(set(wanted) - {area.id for area in areas})
    if missing:
        raise errors.COLLECTOR_UNKNOWN_AREAS(ids=", ".join(map(str, missing)))

    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise errors.COLLECTOR_BAD_USERNAME(reasons=" ".join(exc.messages)) from None
    if User.objects.filter(username=username).exists():
        raise errors.COLLECTOR_USERNAME_TAKEN(username=username)

    user = User(username=username)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise errors.COLLECTOR_BAD_PASSWORD(reasons=" ".join(exc.messages)) from None
        user.set_password(password)
    user.save()
    AreaMembership.objects.bulk_create(
        AreaMembership(user=user, area=area, role=Role.COLLECTOR) for area in areas
    )
    token = CollectorToken.objects.create(user=user, label=label)
    return user, token


def check_may_manage(by: Any, area: ProtectedArea | None, role: str) -> None:
    """Managers change the members of their own areas, granting no role that opens more
    than theirs does there (a manager cannot make anyone law enforcement: personal data is
    not theirs to give); national roles and those above the granter's are for superusers."""
    if access.is_superuser(by):
        return
    if area is None:
        raise errors.MEMBERSHIP_NATIONAL()
    if not access.can(by, Capability.MANAGE_MEMBERS, area):
        raise errors.MEMBERSHIP_NOT_MANAGER(area=area.name)
    if not access.CAPABILITIES.get(role, frozenset()) <= access.capabilities(by, area):
        raise errors.MEMBERSHIP_ROLE_ABOVE_YOURS(role=role)


@transaction.atomic
def add_membership(by: Any, user: User, role: str, area: ProtectedArea | None) -> AreaMembership:
    """Give `user` `role` in `area` (None: nationally), on behalf of `by`. Raises a Problem
    when `by` may not, or when the user already has a role there."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    check_may_manage(by, area, role)
    existing = AreaMembership.objects.filter(user=user)
    existing = existing.filter(national=True) if area is None else existing.filter(area=area)
    if existing.exists():
        raise errors.MEMBERSHIP_EXISTS(username=user.username, area=area.name if area else "every area")
    return AreaMembership.objects.create(user=user, area=area, national=area is None, role=role)


@transaction.atomic
def end_membership(by: Any, membership: AreaMembership) -> list[CollectorToken]:
    """End `membership` on behalf of `by`. When the user may then send data nowhere, its
    collector tokens are revoked: a phone left with a ranger who left the area stops working
    at once. (While other areas remain the token stays, as it grants nothing in the area
    left: every request is checked against the memberships of the moment.) Returns the
    tokens revoked."""
    check_may_manage(by, membership.area if not membership.national else None, membership.role)
    user = membership.user
    membership.delete()
    if access.can(user, Capability.SUBMIT):
        return []
    revoked = []
    for token in CollectorToken.objects.filter(user=user, revoked_at=None):
        if revoke_token(token):
            revoked.append(token)
    return revoked


def revoke_token(token: CollectorToken) -> bool:
    """Cut a phone off. False when the token was already revoked."""
    # Conditional UPDATE: two admins revoking at once keep the first revocation time.
    now = timezone.now()
    revoked = CollectorToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now) == 1
    if revoked:
        token.revoked_at = now
    return revoked


def collect_settings(
    user: User, token: CollectorToken | None, server_url: str, password: str | None = None
) -> dict[str, Any]:
    """ODK Collect settings that connect a phone to this server as `user`.

    With a token the server URL carries it (`<server_url>/key/<token>`) and holds no
    password; Collect appends /formList and /submission itself. Without a token the
    username and password are put in the settings for Digest (or Basic over https).
    Keys are those of Collect's settings import (docs.getodk.org/collect-import-export).
    """
    base = server_url.rstrip("/")
    general: dict[str, Any] = {
        # The phone keeps exactly the forms the server lists for this user, no more.
        "form_update_mode": "match_exactly",
        # Rangers reach signal rarely: send as soon as any network is there.
        "autosend": "wifi_and_cellular",
    }
    if token is not None:
        general["server_url"] = f"{base}/key/{token.token}"
    elif password is not None:
        general.update(server_url=base, username=user.get_username(), password=password)
    else:
        raise ValueError("collect_settings needs a token or a password")

    # The areas the phone will send to, as the access policy sees them (a national role
    # covers them all).
    area_names = list(
        access.visible(user, Capability.SUBMIT, ProtectedArea.objects.all(), "id")
        .order_by("name")
        .values_list("name", flat=True)
    )
    name = area_names[0] if len(area_names) == 1 else f"fieldkit ({len(area_names)} areas)"
    return {
        "general": general,
        "admin": {},
        "project": {"name": name, "icon": name[:1].upper() or "F", "color": PROJECT_COLOR},
    }


def encode_settings(settings_dict: dict[str, Any]) -> str:
    """The text of a Collect settings QR code: base64(zlib(JSON)).

    Checked against Collect's own reader: qr-code/QRCodeDecoder.kt passes the scanned text
    to shared/CompressionUtils.decompress, which base64-decodes it and inflates it with
    java.util.zip.Inflater (zlib stream, not raw deflate nor gzip), then reads UTF-8 JSON.
    ODK's published Python example builds it the same way:
    base64.b64encode(zlib.compress(json.dumps(settings).encode("utf-8"))).
    """
    text = json.dumps(settings_dict, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def decode_settings(payload: str) -> dict[str, Any]:
    """The settings inside a QR code's text, the way Collect reads it."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def settings_qr_png(settings_dict: dict[str, Any], path: str | Path) -> Path:
    """Write the Collect settings QR code of `settings_dict` as a PNG at `path`."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(encode_settings(settings_dict))
    code.make(fit=True)
    target = Path(path)
    code.make_image().save(target)
    return target
