"""Integer parameters (query and path) are whole numbers in decimal digits, on every operation
that declares one: the document says ``integer`` (which admits "31.0" as 31), and pydantic's lax
reading would take " 1", "+1" or "1_0" as another request than the one sent (the refusals
themselves are in the bad-input catalogue)."""

from __future__ import annotations

import types
import typing

from fastapi import params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.api.params import DECIMAL_DIGITS
from app.main import create_app
from app.settings import Settings


def _is_integer(annotation: object) -> bool:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return int in typing.get_args(annotation)
    return annotation is int


def test_every_integer_parameter_takes_decimal_digits_alone_and_documents_its_bounds(
    settings: Settings,
) -> None:
    app = create_app(settings)
    integers = [
        (route, param)
        for route in app.routes
        if isinstance(route, APIRoute)
        for param in get_flat_params(route.dependant)
        if isinstance(param.field_info, params.Query | params.Path)
        and _is_integer(param.field_info.annotation)
    ]

    assert len(integers) >= 11
    unchecked = [
        (route.path, param.alias)
        for route, param in integers
        if DECIMAL_DIGITS not in param.field_info.metadata
    ]
    assert unchecked == []
    # The rule sits after the bounds in each annotation, so the document still states them.
    document = app.openapi()["paths"]
    for route, param in integers:
        [documented] = [
            parameter
            for method in route.methods
            for parameter in document[route.path_format][method.lower()].get("parameters", ())
            if parameter["name"] == param.alias
        ]
        schema = documented["schema"]
        [integer] = [
            option for option in schema.get("anyOf", [schema]) if option["type"] == "integer"
        ]
        assert integer.get("minimum") is not None, (route.path, param.alias, schema)


def test_a_whole_number_written_with_a_zero_fraction_is_that_integer(settings: Settings) -> None:
    """JSON Schema's ``integer`` admits 2.0: a client that writes it gets the answer for 2."""
    with TestClient(create_app(settings)) as client:
        plain = client.get("/v1/keeper", params={"limit": "2"})
        fraction = client.get("/v1/keeper", params={"limit": "2.00"})
        halves = client.get("/v1/keeper", params={"limit": "2.5"})

    assert plain.status_code == 200, plain.text
    assert fraction.status_code == 200, fraction.text
    assert fraction.json() == plain.json()
    assert halves.status_code == 422
    assert halves.json()["error"]["code"] == "validation_failed"
