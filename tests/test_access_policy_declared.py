"""Every view of the URLconf declares its access policy (accounts.access.policy, or the
`access_policy` attribute of a DRF view, a class-based view, a ModelAdmin or the admin
site), so that a new endpoint cannot be added unguarded. Admin and DRF router URLs
included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from accounts import access


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_view_declares_its_access_policy() -> None:
    undeclared = sorted(
        f"{route} -> {getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', view)}"
        for route, view in walk(get_resolver().url_patterns)
        if access.declared_policy(view) is None
    )
    assert undeclared == []


def test_the_walk_sees_admin_api_and_openrosa_urls() -> None:
    routes = [route for route, _ in walk(get_resolver().url_patterns)]
    assert any(r.startswith("admin/observations/observation/") for r in routes)
    assert any(r.startswith("api/v1/") and "observations" in r for r in routes)
    assert any(r.startswith("api/v1/") and "memberships" in r for r in routes)
    assert "formList" in routes and "key/<str:token>/submission" in routes


def test_an_undeclared_view_is_caught() -> None:
    def bare(request: Any) -> None: ...

    assert access.declared_policy(bare) is None
    assert access.declared_policy(access.policy("public")(bare)) == "public"
