"""REST API for forms: list them with their versions, publish (multipart), change state,
publish a draft. Everyone sees the forms of their areas; changes need a manager of every
area of the form (odk_forms.queries)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from fieldkit import errors
from odk_forms import publishing, queries, webforms
from odk_forms.models import Form, FormState, FormVersion


class FormVersionSerializer(serializers.ModelSerializer):
    media = serializers.SerializerMethodField()
    test_url = serializers.SerializerMethodField(help_text="Server URL to test a draft in ODK Collect.")

    class Meta:
        model = FormVersion
        fields = [
            "id",
            "version",
            "title",
            "md5",
            "is_draft",
            "published_at",
            "created",
            "media_names",
            "media",
            "warnings",
            "test_url",
        ]

    def get_media(self, version: FormVersion) -> list[dict[str, Any]]:
        return [{"name": m.name, "md5": m.md5, "size": m.size} for m in version.media_files.all()]

    def get_test_url(self, version: FormVersion) -> str | None:
        return f"{settings.SITE_URL}/test/{version.draft_token}" if version.is_draft else None


class WebFormSerializer(serializers.Serializer):
    url = serializers.URLField(allow_null=True, help_text="Fill in online (Enketo asks for a sign-in).")
    offline_url = serializers.URLField(allow_null=True, help_text="Installable form that works offline.")
    offline_qr = serializers.URLField(allow_null=True, help_text="PNG QR code of the offline link.")
    preview_url = serializers.URLField(
        allow_null=True, help_text="Preview of the draft; only for those who manage the form."
    )
    error = serializers.CharField(allow_null=True, help_text="Why a link is missing (Enketo down...).")


class FormSerializer(serializers.ModelSerializer):
    versions = serializers.SerializerMethodField()
    web_form = serializers.SerializerMethodField(
        help_text="Enketo links of the form for this user; null when fieldkit runs without Enketo."
    )

    class Meta:
        model = Form
        fields = [
            "id",
            "xml_form_id",
            "title",
            "state",
            "areas",
            "current_version",
            "versions",
            "web_form",
            "updated",
        ]

    @extend_schema_field(FormVersionSerializer(many=True))
    def get_versions(self, form: Form) -> Any:
        # A draft's test URLs let anyone holding them download the draft and send to it:
        # drafts are listed only to those who manage the form.
        versions = [v for v in form.versions.all() if not v.is_draft or self._sees_drafts(form)]
        return FormVersionSerializer(versions, many=True, context=self.context).data

    @extend_schema_field(WebFormSerializer(allow_null=True))
    def get_web_form(self, form: Form) -> dict[str, Any] | None:
        if not webforms.enabled():
            return None
        request = self.context.get("request")
        data: dict[str, Any] = {"url": None, "offline_url": None, "offline_qr": None, "preview_url": None}
        data["error"] = None
        version = form.current_version
        if version is not None and form.state == FormState.OPEN and self._may_fill(form):
            # After one failure, a list shows what is known without waiting again per form.
            fetch = not self.context.get("enketo_failed")
            found = webforms.links(version, webforms.site_server_url(), fetch=fetch)
            assert found is not None
            if found.error:
                self.context["enketo_failed"] = found.error
            elif not fetch and not found.url:
                found = webforms.WebFormLinks(error=self.context["enketo_failed"])
            data.update(
                url=found.url or None, offline_url=found.offline_url or None, error=found.error or None
            )
            if found.offline_url and request is not None:
                data["offline_qr"] = request.build_absolute_uri(f"/api/v1/forms/{form.pk}/web-form-qr/")
        draft = next((v for v in form.versions.all() if v.is_draft), None)
        if draft is not None and self._sees_drafts(form) and draft.draft_token:
            preview = webforms.links(draft, webforms.draft_server_url(draft))
            assert preview is not None
            data["preview_url"] = preview.preview_url or None
            data["error"] = data["error"] or preview.error or None
        return data

    def _may_fill(self, form: Form) -> bool:
        if "fillable" not in self.context:
            request = self.context.get("request")
            user = request.user if request is not None else None
            self.context["fillable"] = (
                set(queries.forms_for_collection(user).values_list("pk", flat=True))
                if user is not None
                else set()
            )
        return form.pk in self.context["fillable"]

    def _sees_drafts(self, form: Form) -> bool:
        if "sees_drafts" not in self.context:
            request = self.context.get("request")
            user = request.user if request is not None else None
            self.context["sees_drafts"] = queries.draft_viewer(user) if user is not None else None
        check = self.context["sees_drafts"]
        return check is not None and check(form)


class PublishSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="XLSForm (.xlsx, .xls, .csv, .md) or XForm (.xml).")
    media = serializers.ListField(child=serializers.FileField(), required=False, default=list)
    draft = serializers.BooleanField(required=False, default=False)
    areas = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class StateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=FormState.choices)


class FormViewSet(viewsets.ReadOnlyModelViewSet):
    # The forms of the areas where the user collects, reviews or manages forms
    # (odk_forms.queries.forms_visible_to); changes need MANAGE_FORMS in every area of the form.
    access_policy = "authenticated"
    serializer_class = FormSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = ["state", "xml_form_id"]

    def get_queryset(self) -> Any:
        return (
            queries.forms_visible_to(self.request.user)
            .prefetch_related("areas", "versions__media_files")
            .order_by("xml_form_id")
        )

    @extend_schema(request=PublishSerializer, responses={201: FormSerializer})
    def create(self, request: Request) -> Response:
        """Publish a form file (a new form, or a new version of one) with its media."""
        params = PublishSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        upload = params.validated_data["file"]
        version = publishing.publish_form_version(
            upload.name,
            upload.read(),
            media=[publishing.MediaUpload(f.name, f) for f in params.validated_data["media"]],
            draft=params.validated_data["draft"],
            area_ids=params.validated_data["areas"],
            user=request.user,
        )
        return Response(self._form_data(version.form_id), status=status.HTTP_201_CREATED)

    @extend_schema(request=StateSerializer, responses=FormSerializer)
    @action(detail=True, methods=["post"], serializer_class=StateSerializer)
    def state(self, request: Request, pk: str | None = None) -> Response:
        """open, closing (accepts submissions, not listed) or closed."""
        params = StateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        form = publishing.set_form_state(self.get_object(), params.validated_data["state"], request.user)
        return Response(self._form_data(form.pk))

    # No request body. A bare serializers.Serializer here would become a schema component
    # with an empty name, which makes the OpenAPI document invalid.
    @extend_schema(request=None, responses=FormSerializer)
    @action(detail=True, methods=["post"], url_path="publish-draft")
    def publish_draft(self, request: Request, pk: str | None = None) -> Response:
        publishing.publish_draft(self.get_object(), request.user)
        return Response(self._form_data(pk))

    @extend_schema(request=None, responses={(200, "image/png"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="web-form-qr")
    def web_form_qr(self, request: Request, pk: str | None = None) -> HttpResponse:
        """A QR code (PNG) of the form's offline web form link, for those who may fill it."""
        form = self.get_object()
        if not webforms.enabled():
            raise errors.WEBFORM_NOT_CONFIGURED()
        version = form.current_version
        if version is None or not queries.may_collect(request.user, form):
            raise errors.OPENROSA_NOT_FOUND()
        found = webforms.links(version, webforms.site_server_url())
        assert found is not None
        if not found.offline_url:
            raise errors.WEBFORM_UNAVAILABLE(detail=found.error)
        response = HttpResponse(webforms.qr_png(found.offline_url), content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def _form_data(self, pk: Any) -> Any:
        form = self.get_queryset().get(pk=pk)
        return FormSerializer(form, context=self.get_serializer_context()).data
