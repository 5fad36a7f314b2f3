"""What installed plugins offer: every component with every parameter's type, default and
description (`sim plugins`, `sim plugins --json`)."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from simulator.plugin.host import PluginHost

KINDS = ("spawners", "randomizers", "labelers", "writers")


def _described(metadata: Any) -> str | None:
    for meta in metadata:  # distribution fields describe themselves
        schema = getattr(meta, "json_schema", None)
        if isinstance(schema, dict) and "description" in schema:
            return str(schema["description"])
    return None


def _type_name(field: FieldInfo) -> str:
    described = _described(field.metadata)
    if described:
        return described
    annotation = field.annotation
    parts = typing.get_args(annotation)
    if parts and any(typing.get_origin(p) is typing.Annotated for p in parts):
        names = [
            _described(p.__metadata__) or getattr(p, "__name__", str(p))
            if typing.get_origin(p) is typing.Annotated
            else getattr(p, "__name__", str(p))
            for p in parts
        ]
        return " | ".join(names).replace("NoneType", "None")
    if typing.get_origin(annotation) is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("NoneType", "None")


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "(required)"
    value = field.default
    return value.describe() if hasattr(value, "describe") else value


def parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "type": _type_name(field),
            "default": _default(field),
            "description": field.description or "",
        }
        for name, field in model.model_fields.items()
    ]


def catalog(host: PluginHost) -> dict[str, list[dict[str, Any]]]:
    """{kind: [{name, plugin, summary, parameters}]} for every registered component."""
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        out[kind] = []
        for name, registration in getattr(host, kind):
            doc = (registration.component.__doc__ or "").strip()
            out[kind].append(
                {
                    "name": name,
                    "plugin": registration.plugin,
                    "summary": doc.splitlines()[0] if doc else "",
                    "parameters": parameters(registration.component.Params),
                }
            )
    return out
