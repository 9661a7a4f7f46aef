"""REST API for forms: list them with their versions, publish (multipart), change state,
publish a draft. Everyone sees the forms of their areas; changes need a manager of every
area of the form (odk_forms.queries)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from odk_forms import publishing, queries
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


class FormSerializer(serializers.ModelSerializer):
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Form
        fields = ["id", "xml_form_id", "title", "state", "areas", "current_version", "versions", "updated"]

    @extend_schema_field(FormVersionSerializer(many=True))
    def get_versions(self, form: Form) -> Any:
        # A draft's test URLs let anyone holding them download the draft and send to it:
        # drafts are listed only to those who manage the form.
        versions = [v for v in form.versions.all() if not v.is_draft or self._sees_drafts(form)]
        return FormVersionSerializer(versions, many=True, context=self.context).data

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

    def _form_data(self, pk: Any) -> Any:
        form = self.get_queryset().get(pk=pk)
        return FormSerializer(form, context=self.get_serializer_context()).data
