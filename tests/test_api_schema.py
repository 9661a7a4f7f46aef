"""The OpenAPI schema at /api/v1/schema/ is a valid OpenAPI document."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

# OpenAPI 3: component names match ^[a-zA-Z0-9.\-_]+$; an empty one makes the document invalid.
COMPONENT_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yml"
    # --fail-on-warn raises on any generator warning (an empty component name was one);
    # --validate checks the result against the OpenAPI 3 JSON schema.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    names = list(schema["components"]["schemas"])
    assert names and all(COMPONENT_NAME.match(name) for name in names), names


@pytest.mark.django_db
def test_the_served_schema_validates(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert all(COMPONENT_NAME.match(name) for name in schema["components"]["schemas"])


def test_form_actions_document_their_bodies():
    """Publishing takes the upload's fields; state changes and publishing a draft answer
    with the form."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    def ref(operation: dict, *keys: str) -> str:
        for key in keys:
            operation = operation[key]
        return operation["$ref"].rsplit("/", 1)[-1]

    create = paths["/api/v1/forms/"]["post"]
    assert ref(create, "requestBody", "content", "multipart/form-data", "schema") == "Publish"
    assert ref(create, "responses", "201", "content", "application/json", "schema") == "Form"
    state = paths["/api/v1/forms/{id}/state/"]["post"]
    assert ref(state, "requestBody", "content", "application/json", "schema") == "State"
    assert ref(state, "responses", "200", "content", "application/json", "schema") == "Form"
    draft = paths["/api/v1/forms/{id}/publish-draft/"]["post"]
    assert "requestBody" not in draft
    assert ref(draft, "responses", "200", "content", "application/json", "schema") == "Form"
