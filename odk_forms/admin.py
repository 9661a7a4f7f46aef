"""Admin: forms with a "Publish a form" page (upload an XLSForm or XForm with its media),
state actions, and read-only submissions with a reprocess action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from accounts import access
from accounts.access import Capability
from accounts.admin_policy import PolicyAdmin
from fieldkit.errors import Problem
from odk_forms import processing, publishing, receiving
from odk_forms.models import (
    Attachment,
    Form,
    FormState,
    FormVersion,
    MediaFile,
    RejectedSubmission,
    Submission,
)
from protected_areas.models import ProtectedArea


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class PublishForm(forms.Form):
    file = forms.FileField(help_text="XLSForm (.xlsx, .xls, .csv, .md) or XForm (.xml).")
    media_files = MultipleFileField(required=False, help_text="Images, audio, CSV files the form refers to.")
    areas = forms.ModelMultipleChoiceField(queryset=ProtectedArea.objects.all(), required=False)
    draft = forms.BooleanField(required=False, help_text="Stage as a draft to test it before publishing.")


class FormVersionInline(admin.TabularInline):
    model = FormVersion
    fields = readonly_fields = ("version", "title", "md5", "is_draft", "published_at", "created_by")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Form)
class FormAdmin(PolicyAdmin):
    # Managers see the forms of their areas; publishing and state changes check that they
    # manage every area of the form (odk_forms.publishing).
    access_policy = "capability:manage_forms"
    area_field = "areas"
    list_display = ["xml_form_id", "title", "state", "current_version", "updated"]
    list_filter = ["state", "areas"]
    search_fields = ["xml_form_id", "title"]
    readonly_fields = ["xml_form_id", "title", "current_version", "state"]
    filter_horizontal = ["areas"]
    inlines = [FormVersionInline]
    actions = ["make_open", "make_closing", "make_closed", "publish_drafts"]
    change_list_template = "admin/odk_forms/form/change_list.html"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # forms are added by publishing a file

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request)

    def get_urls(self) -> list[Any]:
        publish = path(
            "publish/", self.admin_site.admin_view(self.publish_view), name="odk_forms_form_publish"
        )
        return [publish, *super().get_urls()]

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = PublishForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                version = publishing.publish_form_version(
                    upload.name,
                    upload.read(),
                    media=[publishing.MediaUpload(f.name, f) for f in form.cleaned_data["media_files"]],
                    draft=form.cleaned_data["draft"],
                    area_ids=[a.id for a in form.cleaned_data["areas"]],
                    user=request.user,
                )
            except Problem as problem:
                form.add_error(None, f"{problem.message} [{problem.code}]")
            else:
                label = "draft" if version.is_draft else "version"
                self.message_user(
                    request,
                    f"Published {version.form.xml_form_id} {label} {version.version or '(no version)'}.",
                    messages.SUCCESS,
                )
                for warning in version.warnings:
                    self.message_user(request, warning, messages.WARNING)
                return HttpResponseRedirect(reverse("admin:odk_forms_form_change", args=[version.form_id]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Publish a form",
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/odk_forms/form/publish.html", context)

    def _set_state(self, request: HttpRequest, queryset: QuerySet[Form], state: str) -> None:
        for form in queryset:
            try:
                publishing.set_form_state(form, state, request.user)
            except Problem as problem:
                self.message_user(request, problem.message, messages.ERROR)

    @admin.action(description="Open: listed on phones, accepts data")
    def make_open(self, request: HttpRequest, queryset: QuerySet[Form]) -> None:
        self._set_state(request, queryset, FormState.OPEN)

    @admin.action(description="Closing: accepts data, no longer listed")
    def make_closing(self, request: HttpRequest, queryset: QuerySet[Form]) -> None:
        self._set_state(request, queryset, FormState.CLOSING)

    @admin.action(description="Closed: accepts no data")
    def make_closed(self, request: HttpRequest, queryset: QuerySet[Form]) -> None:
        self._set_state(request, queryset, FormState.CLOSED)

    @admin.action(description="Publish the draft")
    def publish_drafts(self, request: HttpRequest, queryset: QuerySet[Form]) -> None:
        for form in queryset:
            try:
                publishing.publish_draft(form, request.user)
            except Problem as problem:
                self.message_user(request, problem.message, messages.ERROR)


class MediaFileInline(admin.TabularInline):
    model = MediaFile
    fields = readonly_fields = ("name", "md5", "size", "file")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FormVersion)
class FormVersionAdmin(PolicyAdmin):
    access_policy = "capability:manage_forms"
    area_field = "form__areas"
    list_display = ["form", "version", "is_draft", "published_at", "md5"]
    list_filter = ["is_draft"]
    exclude = ["xml"]
    readonly_fields = [
        "form",
        "version",
        "title",
        "md5",
        "source_file",
        "binary_paths",
        "media_names",
        "base64_rsa_public_key",
        "warnings",
        "is_draft",
        "draft_token",
        "published_at",
        "created_by",
    ]
    inlines = [MediaFileInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    # No link to the file: photos leave the server through the observations API, which
    # strips their GPS tags for whoever may not see the exact point.
    fields = readonly_fields = ("name", "size", "md5", "is_referenced")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(PolicyAdmin):
    # Metadata only: the raw XML holds personal data and exact locations
    # (accounts.access.PERSONAL_FIELDS) and is not shown here.
    access_policy = "capability:view_records"
    area_field = "form__areas"
    list_display = [
        "instance_id",
        "form",
        "form_version",
        "state",
        "is_current",
        "submitted_by",
        "received_at",
    ]
    list_filter = ["state", "is_current", "is_encrypted", "is_draft", "form"]
    search_fields = ["instance_id", "instance_name"]
    date_hierarchy = "received_at"
    inlines = [AttachmentInline]
    actions = ["reprocess"]

    exclude = ["xml_file", "decrypted_xml"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # A form shared by two areas does not show one area's submissions to the other: the
        # sender must also belong to one of the user's areas (as for edits,
        # odk_forms.queries.may_edit_submission).
        submissions = super().get_queryset(request)
        return access.visible(
            request.user, Capability.VIEW_RECORDS, submissions, "submitted_by__area_memberships__area"
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Submissions are evidence: nobody edits them here.
        return [f.name for f in Submission._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not access.can(request.user, Capability.EDIT_RECORDS):
            actions.pop("reprocess", None)
        return actions

    @admin.action(description="Process again")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        queryset = access.visible(request.user, Capability.EDIT_RECORDS, queryset, "form__areas")
        count = sum(processing.reprocess_submission(s) for s in queryset)
        self.message_user(request, f"{count} submission(s) queued for processing.")


@admin.register(RejectedSubmission)
class RejectedSubmissionAdmin(PolicyAdmin):
    """Submissions the server refused, kept with their files until received again. They
    belong to no area (the form may be unknown): administrators only."""

    access_policy = "superuser"

    list_display = [
        "xml_form_id",
        "instance_id",
        "error_code",
        "error",
        "submitted_by",
        "received_at",
        "accepted_at",
    ]
    list_filter = ["error_code", "xml_form_id", ("accepted_at", admin.EmptyFieldListFilter)]
    search_fields = ["xml_form_id", "instance_id", "error"]
    date_hierarchy = "received_at"
    actions = ["receive_again"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in RejectedSubmission._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Receive again (after publishing or reopening the form)")
    def receive_again(self, request: HttpRequest, queryset: QuerySet[RejectedSubmission]) -> None:
        accepted, refused = 0, []
        for rejected in queryset.filter(accepted_at__isnull=True):
            try:
                receiving.receive_rejected(rejected)
                accepted += 1
            except Problem as problem:
                refused.append(f"{rejected.instance_id or rejected.pk}: {problem.message}")
        self.message_user(request, f"{accepted} submission(s) received.")
        for line in refused:
            self.message_user(request, line, level=messages.WARNING)
