"""Admin: forms with a "Publish a form" page (upload an XLSForm or XForm with its media),
state actions and their web form links (Enketo), and read-only submissions with a reprocess
action and an edit in the browser."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts import access
from accounts.access import Capability
from accounts.admin_policy import PolicyAdmin
from fieldkit.errors import Problem
from odk_forms import processing, publishing, receiving, webforms
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
    list_display = ["xml_form_id", "title", "state", "current_version", "web_form_link", "updated"]
    list_filter = ["state", "areas"]
    search_fields = ["xml_form_id", "title"]
    readonly_fields = ["xml_form_id", "title", "current_version", "state", "web_forms"]
    filter_horizontal = ["areas"]
    inlines = [FormVersionInline]
    actions = ["make_open", "make_closing", "make_closed", "publish_drafts"]
    change_list_template = "admin/odk_forms/form/change_list.html"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # forms are added by publishing a file

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        return columns if webforms.enabled() else [c for c in columns if c != "web_form_link"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        self._request = request  # web_forms shows the draft's preview to its managers only
        return super().get_readonly_fields(request, obj)

    @admin.display(description="web form")
    def web_form_link(self, form: Form) -> str:
        # The list shows links already known and never waits for Enketo: a page of fifty
        # forms must not make a hundred calls. The form's own page asks for them.
        if form.current_version is None or form.state != FormState.OPEN:
            return "–"
        found = webforms.links(form.current_version, webforms.site_server_url(), fetch=False)
        if found is None or not found.url:
            return "–"
        return format_html(
            '<a href="{}" target="_blank" rel="noreferrer">online</a> · '
            '<a href="{}" target="_blank" rel="noreferrer">offline</a>',
            found.url,
            found.offline_url,
        )

    @admin.display(description="web forms (Enketo)")
    def web_forms(self, form: Form) -> str:
        if not webforms.enabled():
            return "Off: fieldkit runs without Enketo (set ENKETO_URL and ENKETO_API_KEY)."
        parts: list[str] = []
        version = form.current_version
        if version is None:
            parts.append(format_html("<p>{}</p>", "No published version yet."))
        elif form.state != FormState.OPEN:
            state = form.get_state_display()
            parts.append(format_html("<p>The form is {}: no links to fill it in.</p>", state))
        else:
            found = webforms.links(version, webforms.site_server_url())
            assert found is not None
            if found.error:
                parts.append(format_html('<p class="errornote">{}</p>', found.error))
            else:
                parts.append(
                    format_html(
                        '<p><a href="{0}" target="_blank" rel="noreferrer">Fill in online</a> ({0})<br>'
                        '<a href="{1}" target="_blank" rel="noreferrer">Fill in offline</a> ({1})</p>'
                        '<img src="{2}" width="180" height="180" alt="QR code of the offline link">'
                        "<p>Enketo asks for a fieldkit user name and password; collectors have "
                        "links that need none at their token URL.</p>",
                        found.url,
                        found.offline_url,
                        webforms.qr_svg_data_uri(found.offline_url),
                    )
                )
        request = getattr(self, "_request", None)
        draft = form.versions.filter(is_draft=True).first()
        if draft is not None and request is not None:
            preview = webforms.draft_preview(draft, request.user)
            if preview is not None and preview.preview_url:
                parts.append(
                    format_html(
                        '<p>Draft {}: <a href="{}" target="_blank" rel="noreferrer">preview</a></p>',
                        draft.version or "(no version)",
                        preview.preview_url,
                    )
                )
            elif preview is not None and preview.error:
                parts.append(format_html('<p class="errornote">Draft preview: {}</p>', preview.error))
        return format_html_join("", "{}", ((p,) for p in parts))

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
    actions = ["reprocess", "edit_in_browser"]

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
        # Submissions are evidence: nobody edits them here. An edit (in Enketo, or from
        # ODK Collect) makes a new version and keeps this one.
        fields = [f.name for f in Submission._meta.fields if f.name not in self.exclude]
        return [*fields, "edit_link"] if webforms.enabled() else fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        edit = path(
            "<int:pk>/edit-in-browser/",
            self.admin_site.admin_view(self.edit_in_browser_view),
            name="odk_forms_submission_edit_in_browser",
        )
        return [edit, *super().get_urls()]

    @admin.display(description="edit in the browser")
    def edit_link(self, record: Submission) -> str:
        if not record.is_current:
            return "Not the newest version of the record."
        url = reverse("admin:odk_forms_submission_edit_in_browser", args=[record.pk])
        return format_html('<a href="{}">Open in Enketo</a>', url)

    def edit_in_browser_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Opens the record in Enketo's edit view; the edit comes back as a new version."""
        record = get_object_or_404(self.get_queryset(request).select_related("form"), pk=pk)
        change = reverse("admin:odk_forms_submission_change", args=[record.pk])
        if not self.has_view_permission(request, record):
            return HttpResponseRedirect(reverse("admin:index"))

        def attachment_url(submission: Submission, name: str) -> str:
            return request.build_absolute_uri(
                reverse("submission-attachment", kwargs={"pk": submission.pk, "name": name})
            )

        try:
            url = webforms.edit_in_browser(
                record, request.user, attachment_url, return_url=request.build_absolute_uri(change)
            )
        except Problem as problem:
            self.message_user(request, f"{problem.message} [{problem.code}]", messages.ERROR)
            return HttpResponseRedirect(change)
        return HttpResponseRedirect(url)

    @admin.action(description="Edit in the browser (Enketo)")
    def edit_in_browser(self, request: HttpRequest, queryset: QuerySet[Submission]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one record to edit in the browser.", messages.WARNING)
            return None
        record = queryset.get()
        return HttpResponseRedirect(reverse("admin:odk_forms_submission_edit_in_browser", args=[record.pk]))

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
