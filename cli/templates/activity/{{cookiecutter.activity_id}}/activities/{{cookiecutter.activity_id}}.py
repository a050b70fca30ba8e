{% if cookiecutter.role == "source" -%}
"""{{ cookiecutter.activity_name }}: reads an object into a document whose content streams from S3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import fields

from s3_connector.connector.activity import SourceActivity
from s3_connector.connector.documents import Document

from .common import (
    LocationResponse,
    ObjectSettings,
    etag,
    object_properties,
    sse_c_key_field,
    sse_params,
)


class {{ cookiecutter.class_name }}Settings(ObjectSettings):
    sse_c_key = sse_c_key_field("Key (base64 of 32 bytes) of an SSE-C object.")


class {{ cookiecutter.class_name }}Response(LocationResponse):
    content_type = fields.String()
    version_id = fields.String(allow_none=True)
    size = fields.Integer(required=True)
    etag = fields.String(required=True)


class {{ cookiecutter.class_name }}(SourceActivity):
    """{{ cookiecutter.activity_name }} (source): one document per request, content streamed."""

    id = "{{ cookiecutter.activity_id }}"
    name = "{{ cookiecutter.activity_name }}"
    description = "Reads an object (GetObject); its content streams into the output document."
    Settings = {{ cookiecutter.class_name }}Settings
    writes = ("bucket", "key", "folder", "file_name", "content_type", "version_id", "region")
    Response = {{ cookiecutter.class_name }}Response
    permissions = (
        {"action": "s3:GetObject", "resource": "object"},
        {"action": "s3:GetObjectVersion", "resource": "object", "when": "version_id"},
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key = settings["bucket"], settings["key"]
        request = {"Bucket": bucket, "Key": key, **sse_params(settings)}
        if settings.get("version_id"):
            request["VersionId"] = settings["version_id"]
        response, region = self.connection.regions.call(
            bucket,
            settings.get("region"),
            lambda client: client.get_object(**request),
            name="GetObject",
            target=f"s3://{bucket}/{key}",
        )
        yield Document(
            object_properties(
                bucket,
                key,
                region,
                content_type=response.get("ContentType") or "application/octet-stream",
                version_id=response.get("VersionId"),
                size=response["ContentLength"],
                etag=etag(response["ETag"]),
            ),
            response["Body"],
        )
{%- else -%}
"""{{ cookiecutter.activity_name }}: reads each object's size and ETag, without its content."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import fields

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document

from .common import (
    LocationResponse,
    ObjectSettings,
    etag,
    object_properties,
    sse_c_key_field,
    sse_params,
)
from .probing import head_object


class {{ cookiecutter.class_name }}Settings(ObjectSettings):
    sse_c_key = sse_c_key_field("Key (base64 of 32 bytes) of an SSE-C object.")


class {{ cookiecutter.class_name }}Response(LocationResponse):
    version_id = fields.String(allow_none=True)
    size = fields.Integer(required=True)
    etag = fields.String(required=True)


class {{ cookiecutter.class_name }}(TargetActivity):
    """{{ cookiecutter.activity_name }} (target): one response document per input document."""

    id = "{{ cookiecutter.activity_id }}"
    name = "{{ cookiecutter.activity_name }}"
    description = "Reads an object's size and ETag (HeadObject) for each incoming document."
    concurrent = True
    Settings = {{ cookiecutter.class_name }}Settings
    writes = ("bucket", "key", "folder", "file_name", "version_id", "region")
    Response = {{ cookiecutter.class_name }}Response
    permissions = (
        {"action": "s3:GetObject", "resource": "object"},
        {"action": "s3:GetObjectVersion", "resource": "object", "when": "version_id"},
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key = settings["bucket"], settings["key"]
        head, region = head_object(
            self.connection,
            bucket,
            key,
            region=settings.get("region"),
            version_id=settings.get("version_id"),
            sse=sse_params(settings),
        )
        yield Document(
            object_properties(
                bucket,
                key,
                region,
                version_id=head.get("VersionId"),
                size=head["ContentLength"],
                etag=etag(head["ETag"]),
            )
        )
{%- endif %}
