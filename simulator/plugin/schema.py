"""`sim schema`: the JSON Schema of world files, every installed plugin's parameters included,
for editors with TOML language support (Taplo, Even Better TOML) to complete and check worlds.

Each `[[spawners]]` (and randomizer, labeler, writer) entry is one of the registered
components, told apart by `type`, with that component's own parameters. Written as JSON Schema
draft-07 (definitions under "definitions"), which Taplo reads.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from simulator.plugin.host import PluginHost, Registry
from simulator.world.schema import LabelerEntry, PluginEntry, RandomizerEntry, SpawnerEntry, World

DRAFT = "http://json-schema.org/draft-07/schema#"


def _draft7(node: Any) -> Any:
    """Pydantic writes draft 2020-12; tuples' `prefixItems` are `items` lists in draft-07."""
    if isinstance(node, dict):
        node = {k: _draft7(v) for k, v in node.items()}
        if "prefixItems" in node:
            node["items"] = node.pop("prefixItems")
        return node
    if isinstance(node, list):
        return [_draft7(v) for v in node]
    return node


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema: dict[str, Any] = _draft7(model.model_json_schema(ref_template="#/definitions/{model}"))
    schema["definitions"] = schema.pop("$defs", {})
    return schema


def _entries(
    registry: Registry[Any], entry: type[PluginEntry], definitions: dict[str, Any]
) -> dict[str, Any]:
    """An array whose items are one of the registry's components, by `type`."""
    common = {k: v for k, v in _schema(entry)["properties"].items() if k != "type"}
    variants = []
    for name, registration in registry:
        params = _schema(registration.component.Params)
        definitions.update(params.pop("definitions"))
        summary = (registration.component.__doc__ or "").strip().splitlines()
        variants.append(
            {
                "title": name,
                "type": "object",
                "properties": {
                    "type": {"const": name, "description": summary[0] if summary else name},
                    **common,
                    **params.get("properties", {}),
                },
                "required": ["type", *params.get("required", [])],
                "additionalProperties": False,
            }
        )
    # No component of this kind installed: no entry can be valid (draft-07's `false`).
    return {"type": "array", "items": {"oneOf": variants} if variants else False}


def world_schema(host: PluginHost) -> dict[str, Any]:
    schema = _schema(World)
    definitions = schema["definitions"]
    properties = schema["properties"]
    properties["spawners"] = _entries(host.spawners, SpawnerEntry, definitions)
    properties["randomizers"] = _entries(host.randomizers, RandomizerEntry, definitions)
    properties["labelers"] = _entries(host.labelers, LabelerEntry, definitions)
    writers = _entries(host.writers, PluginEntry, definitions)
    by_name = {"enum": host.writers.names(), "description": "a writer with its defaults"}
    definitions["OutputSection"]["properties"]["writers"] = {
        "type": "array",
        "items": {"anyOf": [by_name, writers["items"]]},
        "description": "Dataset formats, by name or as tables with parameters.",
    }
    return {"$schema": DRAFT, "title": "sim world file", **schema}
