"""The protocol's JSON Schema, generated from the pydantic model (for editor completion).

``validation protocol schema`` writes it to ``protocols/schema.json``; a test checks that the
committed file equals :func:`protocol_json_schema`. Editors that understand the
``# yaml-language-server: $schema=schema.json`` comment then complete and check protocols.
"""

from __future__ import annotations

from typing import Any

from validation._atomic import canonical_json
from validation.protocol.model import Protocol
from validation.protocol.vocabulary import SCHEMA_VERSION

SCHEMA_ID = "https://imaging-validation.invalid/protocol.schema.json"


def protocol_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a protocol file."""
    schema = Protocol.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = f"Validation protocol (schema_version {SCHEMA_VERSION})"
    return schema


def protocol_json_schema_text() -> str:
    """:func:`protocol_json_schema` as canonical JSON text (what protocols/schema.json holds)."""
    return canonical_json(protocol_json_schema())
