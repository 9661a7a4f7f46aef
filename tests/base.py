"""The users every endpoint test needs: an owner (manager) and a member of one area, a
collector sending data to it, and an outsider who manages another area."""

from __future__ import annotations

from django.test import TestCase

from accounts.models import AreaMembership, Role, User
from tests.builders import make_area

PASSWORD = "correct horse battery"


class BaseTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.area = make_area("Varirata National Park")
        cls.other_area = make_area("Tonda Wildlife Management Area", bounds=(141.0, -9.2, 141.6, -8.6))

        cls.owner = cls._user("owner", cls.area, Role.MANAGER)
        cls.member = cls._user("member", cls.area, Role.MEMBER)
        cls.collector = cls._user("collector", cls.area, Role.COLLECTOR)
        cls.outsider = cls._user("outsider", cls.other_area, Role.MANAGER)

    @staticmethod
    def _user(username: str, area, role: str) -> User:  # type: ignore[no-untyped-def]
        user = User.objects.create_user(username, f"{username}@example.org", PASSWORD)
        AreaMembership.objects.create(user=user, area=area, role=role)
        return user
