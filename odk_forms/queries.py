"""Every query of forms and submissions that depends on who asks goes through here."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from accounts import access
from accounts.access import Capability
from accounts.access import Capability as C
from accounts.models import AreaMembership
from odk_forms.models import Form, FormState, FormVersion, Submission
from protected_areas.models import ProtectedArea

# Roles that collect data: they list, download and submit forms (accounts.access).
COLLECTING_ROLES = access.ROLES_WITH[Capability.SUBMIT]


def forms_for_collection(user: Any) -> QuerySet[Form]:
    """Forms a user may download and send data to: those of the areas where it may submit."""
    return access.visible(user, Capability.SUBMIT, Form.objects.all(), area_field="areas")


def forms_visible_to(user: Any) -> QuerySet[Form]:
    """Forms a user may look at in the API: those of the areas where it collects, reviews
    records or manages forms."""
    caps = (C.SUBMIT, C.VIEW_RECORDS, C.VIEW_ILLICIT_RECORDS, C.MANAGE_FORMS)
    return access.visible_any(user, caps, Form.objects.all(), area_field="areas")


def is_manager_of_form(user: Any, form: Form) -> bool:
    """Managers of every area of the form may change it (state, versions, areas)."""
    if access.is_superuser(user):
        return True
    return access.can_everywhere(user, Capability.MANAGE_FORMS, form.areas.values_list("id", flat=True))


def managed_area_ids(user: Any) -> frozenset[int] | None:
    """Ids of the areas whose forms `user` manages; None: every area."""
    return access.area_ids_with(user, Capability.MANAGE_FORMS)


def may_publish(user: Any, area_ids: set[int]) -> bool:
    """Whether `user` may publish forms at all, for `area_ids`: a manager of some area, and
    of each of `area_ids`. Cheap, so that it runs before a form file is converted."""
    return access.can_everywhere(user, Capability.MANAGE_FORMS, area_ids)


def draft_viewer(user: Any) -> Callable[[Form], bool]:
    """Whether `user` may see a form's draft, and so its test URLs, which open the draft to
    anyone who holds them: only those who manage the form. One query for all the forms of a
    list; each form's areas should be prefetched."""
    managed = managed_area_ids(user)
    if managed is None:
        return lambda form: True

    def sees_drafts(form: Form) -> bool:
        areas = {area.pk for area in form.areas.all()}
        return bool(areas) and areas <= managed

    return sees_drafts


def areas_for_submission(user: Any, form: Form) -> QuerySet[ProtectedArea]:
    """The areas of `form` where `user` may send data: the only areas its records may be
    placed in, and the only ones its area lists offer. A superuser has every area of the
    form; without a user (a draft's test URL) the form's areas are what it has."""
    areas = ProtectedArea.objects.filter(odk_forms=form)
    if user is None:
        return areas
    return access.visible(user, Capability.SUBMIT, areas, area_field="id")


def placeable_area_ids(
    user: Any, form: Form | int, form_area_ids: frozenset[int] | None = None
) -> frozenset[int] | None:
    """Ids of the areas where records `user` sent through `form` (or the form of that id)
    may be placed; None when any area will do (a superuser, trusted everywhere).
    `form_area_ids`: the form's areas, when the caller has read them already."""
    if user is not None and access.is_superuser(user):
        return None
    # Two plain queries rather than areas_for_submission's subquery: this runs for every
    # submission, and building the subquery cost about 1 ms of CPU.
    form_id = form.pk if isinstance(form, Form) else form
    form_areas = form_area_ids
    if form_areas is None:
        form_areas = frozenset(
            Form.areas.through.objects.filter(form_id=form_id).values_list("protectedarea_id", flat=True)
        )
    held = access.area_ids_with(user, Capability.SUBMIT) if user is not None else None
    return form_areas if held is None else form_areas & held


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


def submission_target(user: Any, xml_form_id: str, version: str) -> FormVersion | None:
    """The published version a submission names, with `may_submit` set for `user`: one
    query on the request path of every submission, without the XForm document itself.

    Written in SQL: it runs for every submission, and building the equivalent ORM query
    (select_related, only, an Exists annotation) cost about 1 ms of CPU each time, an
    eighth of the whole request. The roles are accounts.access's: those granting SUBMIT in
    an area of the form, or nationally."""
    superuser = access.is_superuser(user)
    active = getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)
    user_id = getattr(user, "pk", None) if active else None
    with connection.cursor() as cursor:
        cursor.execute(_SUBMISSION_TARGET_SQL, [user_id, *COLLECTING_ROLES, xml_form_id, version])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, form_id, version_name, binary_paths, is_draft, may_submit, form_xml_id, form_state = row
    # from_db: the fields not read here stay deferred (loaded on access), as with only().
    form = Form.from_db(connection.alias, ["id", "xml_form_id", "state"], [form_id, form_xml_id, form_state])
    found = FormVersion.from_db(
        connection.alias,
        ["id", "form_id", "version", "binary_paths", "is_draft"],
        [
            pk,
            form_id,
            version_name,
            json.loads(binary_paths) if isinstance(binary_paths, str) else binary_paths,
            bool(is_draft),
        ],
    )
    found.form = form
    found.may_submit = superuser or bool(may_submit)  # type: ignore[attr-defined]
    return found


def _submission_target_sql() -> str:
    version, form = FormVersion._meta.db_table, Form._meta.db_table
    links = Form.areas.through._meta.db_table
    membership = AreaMembership._meta.db_table
    roles = ", ".join(["%s"] * len(COLLECTING_ROLES))
    return f"""
        SELECT v.id, v.form_id, v.version, v.binary_paths, v.is_draft,
               EXISTS (
                   SELECT 1 FROM {membership} m
                   WHERE m.user_id = %s AND m.role IN ({roles}) AND (m.national OR m.area_id IN (
                       SELECT l.protectedarea_id FROM {links} l WHERE l.form_id = v.form_id))
               ),
               f.xml_form_id, f.state
        FROM {version} v JOIN {form} f ON f.id = v.form_id
        WHERE f.xml_form_id = %s AND v.version = %s AND NOT v.is_draft
        LIMIT 1
    """  # noqa: S608 (table names come from the models; values are parameters)


_SUBMISSION_TARGET_SQL = _submission_target_sql()


def may_collect(user: Any, form: Form) -> bool:
    return forms_for_collection(user).filter(pk=form.pk).exists()


def draft_version(draft_token: str) -> FormVersion | None:
    return FormVersion.objects.select_related("form").filter(draft_token=draft_token, is_draft=True).first()


# Roles that review and correct the records of their areas (accounts.access).
EDITING_ROLES = access.ROLES_WITH[Capability.EDIT_RECORDS]


def may_edit_submission(user: Any, record: Submission) -> bool:
    """Whether `user` may send an edit that replaces `record` (any version of a record).

    Superusers may edit any record. The person who sent the record's first version may edit
    it. Managers and members may edit the records their areas' collectors sent: those of
    someone who collects in an area of the form where the editor is a manager or member.
    When the original sender collects in none of the form's areas (any more), or is not
    known, managers and members of any area of the form may. A collector edits only their
    own records: a form shared by two areas does not let one area's people rewrite the
    other's.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if access.is_superuser(user):
        return True
    if record.root_id is None:
        sender_id = record.submitted_by_id
    else:
        sender_id = (
            Submission.objects.filter(pk=record.root_id).values_list("submitted_by_id", flat=True).first()
        )
    if sender_id == user.pk:
        return True
    form_areas = Form.areas.through.objects.filter(form_id=record.form_id).values("protectedarea_id")
    if AreaMembership.objects.filter(user=user, role__in=EDITING_ROLES, national=True).exists():
        return True
    editor_areas = AreaMembership.objects.filter(user=user, role__in=EDITING_ROLES, area_id__in=form_areas)
    if sender_id is not None:
        sender_areas = AreaMembership.objects.filter(
            user_id=sender_id, role__in=COLLECTING_ROLES, area_id__in=form_areas
        ).values("area_id")
        if sender_areas.exists():
            return editor_areas.filter(area_id__in=sender_areas).exists()
    return editor_areas.exists()
