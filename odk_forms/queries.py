"""Every query of forms and submissions that depends on who asks goes through here."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Value

from odk_forms.models import Form, FormState, FormVersion, Submission
from protected_areas.queries import area_ids_of_member

# Roles (accounts.models.Role) that collect data: they list, download and submit forms.
COLLECTING_ROLES = ("manager", "member", "collector")
MANAGER_ROLES = ("manager",)


def _forms_of_areas(area_ids: QuerySet[Any]) -> QuerySet[Form]:
    # Exists() rather than a join: a form in two of the user's areas is listed once.
    links = Form.areas.through.objects.filter(form_id=OuterRef("pk"), protectedarea_id__in=area_ids)
    return Form.objects.filter(Exists(links))


def forms_for_collection(user: Any) -> QuerySet[Form]:
    """Forms a user may download and send data to: those of its areas."""
    if getattr(user, "is_superuser", False):
        return Form.objects.all()
    return _forms_of_areas(area_ids_of_member(user, COLLECTING_ROLES))


def forms_visible_to(user: Any) -> QuerySet[Form]:
    """Forms a user may look at in the API: those of any area it belongs to."""
    if getattr(user, "is_superuser", False):
        return Form.objects.all()
    return _forms_of_areas(area_ids_of_member(user))


def is_manager_of_form(user: Any, form: Form) -> bool:
    """Managers of every area of the form may change it (state, versions, areas)."""
    if getattr(user, "is_superuser", False):
        return True
    managed = set(area_ids_of_member(user, MANAGER_ROLES))
    areas = set(form.areas.values_list("id", flat=True))
    return bool(areas) and areas <= managed


def managed_area_ids(user: Any) -> set[int]:
    return set(area_ids_of_member(user, MANAGER_ROLES))


def listed_forms(user: Any, xml_form_id: str | None = None) -> QuerySet[Form]:
    """The forms of the OpenRosa form list: open, with a published version, of the user."""
    forms = forms_for_collection(user).filter(state=FormState.OPEN, current_version__isnull=False)
    if xml_form_id is not None:
        forms = forms.filter(xml_form_id=xml_form_id)
    # defer the XML: the list needs hashes, not documents.
    return forms.select_related("current_version").defer("current_version__xml").order_by("xml_form_id")


def published_version(user: Any, xml_form_id: str, version_id: int) -> FormVersion | None:
    return (
        FormVersion.objects.select_related("form")
        .filter(
            pk=version_id,
            is_draft=False,
            form__xml_form_id=xml_form_id,
            form__in=forms_for_collection(user),
        )
        .first()
    )


def _may_collect(user: Any, form_id: OuterRef) -> Exists | Value:
    if getattr(user, "is_superuser", False):
        return Value(True)
    links = Form.areas.through.objects.filter(
        form_id=form_id, protectedarea_id__in=area_ids_of_member(user, COLLECTING_ROLES)
    )
    return Exists(links)


def submission_target(user: Any, xml_form_id: str, version: str) -> FormVersion | None:
    """The published version a submission names, annotated `may_submit` for `user`: one
    query on the request path of every submission, without the XForm document itself."""
    found = (
        FormVersion.objects.select_related("form")
        .only("id", "version", "is_draft", "binary_paths", "form__id", "form__xml_form_id", "form__state")
        .filter(form__xml_form_id=xml_form_id, is_draft=False, version=version)
        .annotate(may_submit=_may_collect(user, OuterRef("form_id")))
        .order_by()[:1]
    )
    return next(iter(found), None)


def may_collect(user: Any, form: Form) -> bool:
    return forms_for_collection(user).filter(pk=form.pk).exists()


def draft_version(draft_token: str) -> FormVersion | None:
    return FormVersion.objects.select_related("form").filter(draft_token=draft_token, is_draft=True).first()


def submissions_visible_to(user: Any) -> QuerySet[Submission]:
    return Submission.objects.filter(form__in=forms_visible_to(user))
