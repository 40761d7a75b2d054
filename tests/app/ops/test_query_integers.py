"""Integer query parameters are decimal digits alone, on every operation that declares one: the
document says ``integer``, and pydantic's lax reading would take " 1", "+1", "1_0" or "1.0" as
another request than the one sent (the refusals themselves are in the bad-input catalogue)."""

from __future__ import annotations

import types
import typing

from fastapi import params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute

from app.api.params import DECIMAL_DIGITS
from app.main import create_app
from app.settings import Settings


def _is_integer(annotation: object) -> bool:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return int in typing.get_args(annotation)
    return annotation is int


def test_every_integer_query_parameter_takes_decimal_digits_alone(settings: Settings) -> None:
    app = create_app(settings)
    integers = [
        (route.path, param.name, param.field_info.metadata)
        for route in app.routes
        if isinstance(route, APIRoute)
        for param in get_flat_params(route.dependant)
        if isinstance(param.field_info, params.Query) and _is_integer(param.field_info.annotation)
    ]

    assert len(integers) >= 10
    unchecked = [
        (path, name) for path, name, metadata in integers if DECIMAL_DIGITS not in metadata
    ]
    assert unchecked == []
    # Each keeps its bounds in the document: the rule sits after them in the annotation.
    document = app.openapi()["paths"]
    for path, name, _ in integers:
        for operation in document[path].values():
            for parameter in operation.get("parameters", ()):
                if parameter["name"] == name and parameter["in"] == "query":
                    schema = parameter["schema"]
                    schema = next(iter(schema.get("anyOf", [schema])))
                    assert "minimum" in schema, (path, name, schema)
                    assert "ge" not in schema, (path, name, schema)
