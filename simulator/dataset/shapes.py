"""The shapes of a dataset's JSON files that sim's readers rely on, checked as they are read.

A dataset on disk is input like any other: a hand-edited or foreign COCO file, a truncated
frames.jsonl, a manifest whose category name is an object. Each model below lists only the
fields some reader of sim uses (`sim inspect`, `sim overlay`, `sim replay`, `sim export`,
simulator.testing), with the types those readers assume; every other field passes unread.
Validation is strict (no "3" for 3, no true for 1), numbers are finite and pixel
coordinates bounded, so nothing downstream can trip: `problem` words the first mismatch for
the reader's one-line OutputError, naming the field ("images[3].width: ...").
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

# Pixel coordinates beyond this are no image's: the bound keeps drawing and binning finite.
PIXEL_LIMIT = 1e7

Pixel = Annotated[float, Field(allow_inf_nan=False, ge=-PIXEL_LIMIT, le=PIXEL_LIMIT)]
Size = Annotated[int, Field(le=int(PIXEL_LIMIT))]
Box = Annotated[list[Pixel], Field(min_length=4, max_length=4)]
Fraction = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


def _id(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected an integer id (or a string)")
    return value


def _flag(value: Any) -> Any:
    if value not in (0, 1) or not isinstance(value, int):
        raise ValueError("expected 0 or 1")
    return value


Id = Annotated[Any, PlainValidator(_id)]  # COCO ids are integers; pycocotools takes strings
Flag = Annotated[Any, PlainValidator(_flag)]


class Shape(BaseModel):
    """Strict types; unknown fields are ignored (readers never see this model's output)."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Keypoint(Shape):
    name: str
    x: Pixel
    y: Pixel
    v: Annotated[int, Field(ge=0, le=2)]


class Box3D(Shape):
    corners_pixels: Annotated[
        list[Annotated[list[Pixel | None], Field(min_length=2, max_length=2)]],
        Field(min_length=8, max_length=8),
    ]


class NativeObject(Shape):
    instance_id: Annotated[int, Field(ge=0, le=2**32 - 1)]
    category: str
    bbox: Box
    amodal_bbox: Box | None = None
    box3d: Box3D | None = None
    keypoints: list[Keypoint] | None = None
    visibility: Fraction | None = None
    truncation: Fraction | None = None


class NativeRecord(Shape):
    frame: Count
    files: dict[str, str]
    objects: list[NativeObject]


class KeypointSchema(Shape):
    names: list[str]
    skeleton: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = []


class Manifest(Shape):
    status: str | None = None
    world: dict[str, Any] | None = None
    world_file: str | None = None
    start: Count = 0
    frames: Count = 0
    frames_done: Count = 0
    shard_size: Count | None = None
    skipped_frames: list[Any] = []
    keypoints: dict[str, KeypointSchema] = {}


class CocoImage(Shape):
    id: Id
    file_name: str
    width: Size
    height: Size


class CocoAnnotation(Shape):
    id: Id | None = None
    image_id: Id
    category_id: Id
    bbox: Box
    iscrowd: Flag = 0
    keypoints: list[Pixel] | None = None


class CocoCategory(Shape):
    id: Id
    name: str
    keypoints: list[str] | None = None


class Coco(Shape):
    images: list[CocoImage]
    annotations: list[CocoAnnotation]
    categories: list[CocoCategory]


Model = TypeVar("Model", bound=Shape)


def problem(model: type[Model], value: Any) -> str | None:
    """None when `value` has `model`'s shape, else its first mismatch as
    "<field path>: <why>, got <value>"."""
    try:
        model.model_validate(value)
    except ValidationError as error:
        return describe(error)
    return None


# pydantic's words for a wrong type, in JSON's
_EXPECTED = {
    "model_type": "a JSON object",
    "dict_type": "a JSON object",
    "list_type": "a JSON array",
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
}


def describe(error: ValidationError) -> str:
    """The first problem of `error` as "<field path>: <why>, got <value>"."""
    first = error.errors(include_url=False)[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    field = path.removeprefix(".")
    if first["type"] == "missing":
        return f"{field} is missing"
    shown = repr(first["input"])
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    expected = _EXPECTED.get(first["type"])
    message = first["msg"].removeprefix("Value error, ")
    why = f"expected {expected}" if expected else message[0].lower() + message[1:]
    return f"{field + ': ' if field else ''}{why}, got {shown}"
