"""What is known about a model file beyond its geometry: its category, unit, license, source
and attribution, from a folder manifest (`models.json`), a per-file sidecar (`<stem>.json`)
or a BOP models folder (`models_info.json`, millimetres), and the asset record the dataset
manifest lists. Shared by the "model" and "model_folder" spawners; registers nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator import WorldError, models

FOLDER_MANIFEST = "models.json"
BOP_INFO = "models_info.json"
INFO_KEYS = ("category", "unit", "license", "source", "attribution")


@dataclass
class AssetInfo:
    """One model file and what its manifests say of it (None: not said)."""

    path: Path
    category: str | None = None
    unit: models.Unit | None = None
    license: str | None = None
    source: str | None = None
    attribution: str | None = None

    def record(self, category: str | None, unit: models.Unit | None) -> dict[str, Any]:
        """The dataset manifest's entry: the file, its category and unit, and its terms."""
        return {
            "path": str(self.path),
            "category": category,
            "unit": unit,
            "license": self.license,
            "source": self.source,
            "attribution": self.attribution,
        }


def _read_json(file: Path, hint: str) -> Any:
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as error:
        raise WorldError(f"{file}: {error}", hint=hint) from None


def _checked(values: Any, file: Path) -> dict[str, Any]:
    """An info object's known keys, each checked, or one error naming the file and key."""
    hint = "keys: " + ", ".join(INFO_KEYS) + "; unit is m, cm, mm, in or a number"
    if not isinstance(values, dict):
        raise WorldError(f"{file}: expected an object of model information", hint=hint)
    unknown = sorted(set(values) - set(INFO_KEYS))
    if unknown:
        raise WorldError(f"{file}: unknown key {unknown[0]!r}", hint=hint)
    for key, value in values.items():
        if key == "unit":
            try:
                models.unit_scale(value)
            except WorldError as error:
                raise WorldError(f"{file}: {error.message}", hint=error.hint) from None
        elif not isinstance(value, str):
            raise WorldError(f"{file}: {key!r} must be a string, got {value!r}", hint=hint)
    return dict(values)


def sidecar(model: Path) -> Path:
    """A model's own information file: `<stem>.json` beside it."""
    return model.with_name(model.name.split(".")[0] + ".json")


def file_info(model: Path) -> dict[str, Any]:
    """What the model's `<stem>.json` sidecar says, or nothing."""
    file = sidecar(model)
    if not file.is_file():
        return {}
    return _checked(_read_json(file, 'expected {"unit": "mm", "license": "CC-BY-4.0"}'), file)


def folder_info(folder: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A library's `models.json`: (defaults for every model, per-file entries by path
    relative to the folder)."""
    file = folder / FOLDER_MANIFEST
    if not file.is_file():
        return {}, {}
    data = _read_json(file, 'expected {"license": ..., "models": {"part.stl": {...}}}')
    if not isinstance(data, dict):
        raise WorldError(f"{file}: expected an object", hint='{"unit": "mm", "models": {...}}')
    entries = data.pop("models", {})
    if not isinstance(entries, dict):
        raise WorldError(f"{file}: 'models' maps file paths to their information")
    return _checked(data, file), {str(k): _checked(v, file) for k, v in entries.items()}


def library(folder: Path, files: list[Path], unit: models.Unit | None) -> list[AssetInfo]:
    """Every file's information: its sidecar, over its `models.json` entry, over the
    manifest's defaults, over the spawner's `unit`."""
    defaults, entries = folder_info(folder)
    found = []
    for file in files:
        values = {"unit": unit} if unit is not None else {}
        values |= defaults | entries.get(file.relative_to(folder).as_posix(), {})
        found.append(AssetInfo(file, **(values | file_info(file))))
    return found


def bop_folder(folder: Path) -> Path | None:
    """The folder holding a BOP `models_info.json` (the folder itself or its `models/`)."""
    for candidate in (folder, folder / "models"):
        if (candidate / BOP_INFO).is_file():
            return candidate
    return None


def bop_models(models_dir: Path) -> dict[Path, str]:
    """A BOP models folder's files by object id: `obj_000001.ply` -> "obj_000001"."""
    info = models_dir / BOP_INFO
    data = _read_json(info, 'expected {"1": {"diameter": ...}, ...} (BOP format)')
    try:
        names = [f"obj_{int(key):06d}" for key in data]
    except (TypeError, ValueError):
        raise WorldError(f"{info}: object ids must be integers (BOP format)") from None
    files = {models_dir / f"{name}.ply": name for name in names}
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise WorldError(f"{info} lists objects without model files: {', '.join(missing)}")
    return files
