"""`sim inspect`: the report of simulator.report.stats' numbers as one self-contained HTML page
(matplotlib figures and frames embedded as base64 data URIs, no network) and a few lines of
terminal summary.

Figures use matplotlib's Agg canvas directly (no pyplot), so nothing global is touched and
no figure outlives its function.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator
from PIL import Image

from simulator.dataset.read import DatasetFolder, inside
from simulator.errors import OutputError
from simulator.report.keypoints import keypoint_table, keypoint_text
from simulator.report.overlay import draw, overlay_record
from simulator.report.stats import (
    NATIVE_FIELDS,
    Dataset,
    Stats,
    center_heatmap,
    count_edges,
    histogram,
    log_edges,
    quantiles,
    read_dataset,
    sample_indices,
    summarize,
    unit_edges,
)

COLORS = ("#3b6fb6", "#e07b39")  # first dataset, compared dataset
SHEET_FRAMES = 12  # frames in each contact sheet
SHEET_WIDTH = 640  # largest stored width of a contact-sheet frame, pixels
COCO_SMALL, COCO_LARGE = 32, 96  # COCO's small / medium / large limits on sqrt(area), pixels


# --- figures -------------------------------------------------------------------------------


def _figure(width: float = 6.0, height: float = 3.4) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def figure_uri(figure: Figure) -> str:
    """The figure as a PNG data URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _share(counts: np.ndarray, total: int, compare: bool) -> np.ndarray:
    """Counts as they are for one dataset; as % of the dataset's total when comparing two of
    different sizes."""
    return counts * 100.0 / max(total, 1) if compare else counts


def plot_classes(stats: Sequence[Stats]) -> Figure:
    """Horizontal bars of boxes per class, one bar per dataset."""
    names = list(dict.fromkeys(name for s in stats for name in s.classes))
    compare = len(stats) > 1
    figure, axes = _figure(6.0, 1.0 + 0.32 * len(names) * len(stats))
    height = 0.8 / len(stats)
    rows = np.arange(len(names))
    for k, (s, color) in enumerate(zip(stats, COLORS, strict=False)):
        counts = _share(np.array([s.classes.get(n, 0) for n in names]), len(s.boxes), compare)
        bars = axes.barh(rows + k * height, counts, height, color=color, label=s.label)
        texts = [
            ("" if n not in s.classes else f"{v:.1f}%" if compare else f"{v:.0f}")
            for n, v in zip(names, counts, strict=True)
        ]  # a class the dataset does not have gets no number
        axes.bar_label(bars, texts, padding=3, fontsize=8)
    axes.set_yticks(rows + height * (len(stats) - 1) / 2, names)
    axes.invert_yaxis()
    axes.margins(x=0.12)
    axes.set_xlabel("share of boxes (%)" if compare else "boxes")
    axes.set_title("boxes per class")
    if compare:
        axes.legend(fontsize=8)
    return figure


def plot_histogram(
    stats: Sequence[Stats],
    values: Callable[[Stats], np.ndarray | None],
    edges: np.ndarray,
    title: str,
    xlabel: str,
    unit: str = "boxes",
) -> Figure:
    """One histogram per dataset over the shared `edges`, filled and overlaid; a dataset
    without the values is named "not recorded" in the legend."""
    compare = len(stats) > 1
    figure, axes = _figure()
    for s, color in zip(stats, COLORS, strict=False):
        found = values(s)
        if found is None:
            axes.plot([], [], color=color, label=f"{s.label}: not recorded")
            continue
        counts = _share(histogram(found, edges), len(found), compare)
        axes.stairs(counts, edges, fill=True, color=color, alpha=0.35)
        axes.stairs(counts, edges, color=color, linewidth=1.5, label=s.label)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(f"share of {unit} (%)" if compare else unit)
    if compare:
        axes.legend(fontsize=8)
    return figure


def _log_axis(axes: Axes, edges: np.ndarray, ticks: dict[float, str]) -> None:
    """A log x axis labelled only at those of `ticks` ({value: label}) inside the edges."""
    axes.set_xscale("log")
    inside = {v: label for v, label in ticks.items() if edges[0] <= v <= edges[-1]}
    axes.set_xticks(list(inside), list(inside.values()))
    axes.xaxis.set_minor_locator(NullLocator())


def plot_sizes(stats: Sequence[Stats]) -> Figure:
    """Box size sqrt(w · h) on a log axis, with COCO's small / medium / large limits."""
    edges = log_edges([s.boxes.size for s in stats])
    figure = plot_histogram(
        stats,
        lambda s: s.boxes.size,
        edges,
        "box size",
        f"sqrt(w · h), pixels (dashed: COCO small < {COCO_SMALL} < medium < {COCO_LARGE} < large)",
    )
    axes = figure.axes[0]
    _log_axis(axes, edges, {2.0**k: f"{2**k}" for k in range(13)})
    for limit in (COCO_SMALL, COCO_LARGE):
        if edges[0] < limit < edges[-1]:
            axes.axvline(limit, color="0.5", linestyle="--", linewidth=1)
    return figure


def plot_aspect(stats: Sequence[Stats]) -> Figure:
    """Aspect ratio w / h on a log axis (1 = square)."""
    edges = log_edges([s.boxes.aspect for s in stats])
    figure = plot_histogram(
        stats, lambda s: s.boxes.aspect, edges, "aspect ratio", "width / height"
    )
    axes = figure.axes[0]
    ratios = {1 / 8: "1/8", 1 / 4: "1/4", 1 / 2: "1/2", 1.0: "1", 2.0: "2", 4.0: "4", 8.0: "8"}
    _log_axis(axes, edges, ratios)
    if edges[0] < 1 < edges[-1]:
        axes.axvline(1.0, color="0.5", linestyle="--", linewidth=1)
    return figure


def plot_per_frame(stats: Sequence[Stats]) -> Figure:
    """How many frames hold 0, 1, 2, ... boxes."""
    edges = count_edges([s.per_frame for s in stats])
    figure = plot_histogram(
        stats, lambda s: s.per_frame, edges, "boxes per frame", "boxes in a frame", unit="frames"
    )
    figure.axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def plot_heatmaps(stats: Sequence[Stats], bins: int = 16) -> Figure:
    """Where box centres fall in the image (normalized), one map per dataset, side by side
    on one color scale when comparing."""
    compare = len(stats) > 1
    figure = Figure(figsize=(6.0 * len(stats), 3.4), layout="constrained")
    FigureCanvasAgg(figure)
    maps = [_share(center_heatmap(s.boxes, bins), len(s.boxes), compare) for s in stats]
    top = max(float(m.max()) for m in maps) or 1.0
    for k, (s, shown) in enumerate(zip(stats, maps, strict=True)):
        axes = figure.add_subplot(1, len(stats), k + 1)
        width, height = next(iter(s.image_sizes), (4, 3))
        image = axes.imshow(
            shown, extent=(0, 1, 1, 0), cmap="Blues", vmin=0, vmax=top, aspect=height / width
        )
        figure.colorbar(image, ax=axes, label="% of boxes" if compare else "boxes")
        axes.set_title(f"box centres: {s.label}" if compare else "box centres")
        axes.set_xlabel("x / image width")
        axes.set_ylabel("y / image height")
    return figure


UNIT_AXES = {
    "visibility": "visible pixels / pixels of the object drawn alone (1 = not occluded)",
    "truncation": "share of the amodal box outside the image (0 = fully inside)",
}


def plot_unit(stats: Sequence[Stats], field: str) -> Figure:
    """Histogram over [0, 1] of a native field ("visibility" or "truncation")."""
    return plot_histogram(
        stats, lambda s: getattr(s, field), unit_edges(), field, UNIT_AXES[field], "objects"
    )


# --- text ------------------------------------------------------------------------------------


def _quantile_text(values: np.ndarray | None, unit: str = "", digits: int = 2) -> str:
    if values is None:
        return "not recorded"
    if not len(values):
        return "none"
    p10, p50, p90 = quantiles(values)
    return f"p10 {p10:.{digits}f}{unit}, median {p50:.{digits}f}{unit}, p90 {p90:.{digits}f}{unit}"


def overview(s: Stats) -> list[tuple[str, str]]:
    """(name, value) rows describing one dataset, for the terminal and the HTML table."""
    several = len(s.image_sizes) > 1
    sizes = ", ".join(
        f"{w}x{h}" + (f" ({n} frames)" if several else "")
        for (w, h), n in list(s.image_sizes.items())[:3]
    )
    per_frame = s.per_frame
    depth = s.depth
    return [
        ("frames", f"{s.frames}" + (f" ({sizes})" if sizes else "")),
        (
            "boxes",
            f"{len(s.boxes)}" + (f" (+{s.crowd} crowd regions, not counted)" if s.crowd else ""),
        ),
        ("classes", ", ".join(f"{name} {count}" for name, count in s.classes.items()) or "none"),
        (
            "per frame",
            f"mean {per_frame.mean():.1f}, median {np.median(per_frame):g}, "
            f"range {per_frame.min()} to {per_frame.max()}"
            if len(per_frame)
            else "no frames",
        ),
        ("box size", _quantile_text(s.boxes.size, " px", 0)),
        ("visibility", _quantile_text(s.visibility)),
        ("truncation", _quantile_text(s.truncation)),
        (
            "depth",
            f"{depth.low:.2f} to {depth.high:.2f} m, median {depth.median:.2f} m "
            f"({depth.frames_sampled} of {depth.frames} frames sampled)"
            if depth
            else "not recorded",
        ),
        ("keypoints", keypoint_text(s.keypoints)),
    ]


def summary_text(stats: Sequence[Stats]) -> str:
    """A few plain lines per dataset for the terminal."""
    blocks = []
    for s in stats:
        rows = [f"  {name:<12}{value}" for name, value in overview(s)]
        blocks.append("\n".join([f"{s.label} ({s.source})", *rows]))
    return "\n".join(blocks)


# --- contact sheet -----------------------------------------------------------------------------


def contact_sheet(dataset: Dataset, count: int = SHEET_FRAMES) -> list[tuple[str, Image.Image]]:
    """Up to `count` evenly spaced frames with their labels drawn, as (caption, image), at
    most SHEET_WIDTH wide. Sim datasets: simulator.report.overlay's drawing of the native record;
    COCO: boxes and class names. Frames whose image file is missing are left out."""
    if dataset.folder is not None and dataset.records:
        tiles = _sim_tiles(dataset.folder, dataset.records, count)
    elif dataset.images_dir is not None:
        tiles = _coco_tiles(dataset.coco, dataset.images_dir, count)
    else:
        tiles = []
    for _, tile in tiles:
        tile.thumbnail((SHEET_WIDTH, SHEET_WIDTH))
    return tiles


def _sim_tiles(
    folder: DatasetFolder, records: list[dict[str, Any]], count: int
) -> list[tuple[str, Image.Image]]:
    """The sampled frames' full records, read in one pass over frames.jsonl."""
    picked = [records[i]["frame"] for i in sample_indices(len(records), count)]
    tiles = []
    for record in folder.records(set(picked)):
        image = folder.pass_path(record, "image")
        if image is not None and image.is_file():
            caption = f"frame {record['frame']}: {len(record['objects'])} objects"
            tiles.append((caption, overlay_record(folder, record)))
    return tiles


def _coco_tiles(
    coco: dict[str, Any], images_dir: Path, count: int
) -> list[tuple[str, Image.Image]]:
    names = {c["id"]: c["name"] for c in coco["categories"]}
    picked = [coco["images"][i] for i in sample_indices(len(coco["images"]), count)]
    boxes: dict[Any, list[dict[str, Any]]] = {image["id"]: [] for image in picked}
    for a in coco["annotations"]:
        if a["image_id"] in boxes and not a.get("iscrowd", 0):
            # overlay.draw colors by "instance_id": here, one color per category.
            box = {"instance_id": a["category_id"], "category": names[a["category_id"]]}
            boxes[a["image_id"]].append({**box, "bbox": a["bbox"]})
    tiles = []
    for image in picked:
        path = inside(images_dir, image["file_name"], f"image {image['id']}'s file_name")
        if not path.is_file():
            continue
        objects = boxes[image["id"]]
        with Image.open(path) as opened:
            rgb = np.asarray(opened.convert("RGB"))
        tiles.append((f"{image['file_name']}: {len(objects)} boxes", draw(rgb, objects)))
    return tiles


def image_uri(image: Image.Image) -> str:
    """A photo as a JPEG data URI."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=88)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- the page ------------------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1240px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 2px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 15px; }
.sub { color: #666; margin: 0 0 12px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
td, th { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
th { color: #555; font-weight: 600; } td.n { text-align: right; }
tr + tr td { border-top: 1px solid #eee; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
.row { display: flex; gap: 32px; align-items: flex-start; flex-wrap: wrap; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; }
.grid img, .row img { max-width: 100%; } .grid img.wide { grid-column: 1 / -1; }
.note { color: #666; font-style: italic; }
.sheet { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px; }
.sheet figure { margin: 0; } .sheet img { width: 100%; display: block; }
.sheet figcaption { font-size: 12px; color: #555; }
"""


def _img(uri: str, alt: str, css_class: str | None = None) -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return f'<img src="{uri}" alt="{escape(alt)}"{attribute}>'


def _overview_table(stats: Sequence[Stats]) -> str:
    head = "".join(
        f'<th><span class="swatch" style="background:{c}"></span>{escape(s.label)}</th>'
        for s, c in zip(stats, COLORS, strict=False)
    )
    rows = [f"<tr><th></th>{head}</tr>"]
    rows.append(
        "<tr><th>source</th>"
        + "".join(f"<td>{escape(str(s.source))}</td>" for s in stats)
        + "</tr>"
    )
    tables = [overview(s) for s in stats]
    for k, (name, _) in enumerate(tables[0]):
        if name in ("classes", "keypoints"):
            continue  # the class and keypoint tables below have them
        cells = "".join(f"<td>{escape(t[k][1])}</td>" for t in tables)
        rows.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _class_table(stats: Sequence[Stats]) -> str:
    names = list(dict.fromkeys(name for s in stats for name in s.classes))
    head = "".join(
        f'<th colspan="3"><span class="swatch" style="background:{c}"></span>{escape(s.label)}</th>'
        for s, c in zip(stats, COLORS, strict=False)
    )
    sub = "<th>boxes</th><th>% boxes</th><th>frames</th>" * len(stats)
    rows = [f"<tr><th></th>{head}</tr>", f"<tr><th>class</th>{sub}</tr>"]
    for name in names:
        cells = ""
        for s in stats:
            if name not in s.classes:
                cells += '<td class="n">-</td>' * 3
                continue
            share = 100.0 * s.classes[name] / max(len(s.boxes), 1)
            cells += (
                f'<td class="n">{s.classes[name]}</td><td class="n">{share:.1f}</td>'
                f'<td class="n">{s.class_frames[name]}</td>'
            )
        rows.append(f"<tr><td>{escape(name)}</td>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _sheet(dataset: Dataset) -> str:
    tiles = contact_sheet(dataset)
    if not tiles:
        where = dataset.images_dir or "no images directory found; pass --images DIR"
        return f'<p class="note">no images found ({escape(str(where))})</p>'
    figures = "".join(
        f"<figure>{_img(image_uri(tile), text)}<figcaption>{escape(text)}</figcaption></figure>"
        for text, tile in tiles
    )
    return f'<div class="sheet">{figures}</div>'


def render_html(datasets: Sequence[Dataset], stats: Sequence[Stats]) -> str:
    """The whole report page."""
    labels = " vs. ".join(s.label for s in stats)
    compare = len(stats) > 1
    recorded = [f for f in NATIVE_FIELDS if any(getattr(s, f) is not None for s in stats)]
    plots = [
        (plot_per_frame(stats), False),
        (plot_sizes(stats), False),
        (plot_heatmaps(stats), compare),  # two maps side by side take the whole row
        (plot_aspect(stats), False),
        *((plot_unit(stats, field), False) for field in recorded),
    ]
    notes = "".join(
        f'<p class="note">{field}: not recorded (only sim datasets with the <code>{label}</code> '
        "label record it)</p>"
        for field, label in (("visibility", "visibility"), ("truncation", "boxes"))
        if field not in recorded
    )
    sheets = "".join(
        (f"<h3>{escape(d.label)}</h3>" if len(datasets) > 1 else "") + _sheet(d) for d in datasets
    )
    classes = _img(figure_uri(plot_classes(stats)), "boxes per class")
    keypoints = (
        "<h2>Keypoints</h2>"
        + keypoint_table([s.label for s in stats], [s.keypoints for s in stats])
        if any(s.keypoints for s in stats)
        else ""
    )
    grid = "".join(
        _img(figure_uri(f), f.axes[0].get_title(), "wide" if wide else None) for f, wide in plots
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>sim inspect: {escape(labels)}</title><style>{STYLE}</style></head>
<body>
<h1>{escape(labels)}</h1>
<p class="sub">sim inspect report: {escape(", ".join(str(s.source) for s in stats))}</p>
<h2>Overview</h2>{_overview_table(stats)}
<h2>Classes</h2><div class="row">{_class_table(stats)}{classes}</div>
{keypoints}
<h2>Boxes, visibility, truncation</h2><div class="grid">{grid}</div>{notes}
<h2>Frames</h2>{sheets}
</body></html>
"""


# --- entry point -------------------------------------------------------------------------------


def default_out(dataset: Path) -> Path:
    """<dataset>/report.html; next to a COCO file for a COCO dataset."""
    return dataset / "report.html" if dataset.is_dir() else dataset.parent / "report.html"


def inspect_main(
    dataset: Path, out: Path | None = None, compare: Path | None = None, images: Path | None = None
) -> tuple[Path, str]:
    """Write the report of `dataset` (optionally beside `compare`) and return its path and
    the terminal summary. Raises OutputError for inputs that cannot be read."""
    target, stats = write_report(dataset, out, compare, images)
    return target, summary_text(stats)


def write_report(
    dataset: Path, out: Path | None = None, compare: Path | None = None, images: Path | None = None
) -> tuple[Path, list[Stats]]:
    """inspect_main's work: the report written, its path and numbers (for `--json`)."""
    datasets = [read_dataset(dataset, images)]
    if compare is not None:
        other = read_dataset(compare)
        if other.label == datasets[0].label:
            other = replace(other, label=f"{other.label} (compared)")
        datasets.append(other)
    stats = [summarize(d) for d in datasets]
    target = out or default_out(dataset)
    if target.is_dir():
        target = target / "report.html"
    page = render_html(datasets, stats)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise OutputError(f"cannot write {target}: {error.strerror}") from None
    return target, stats
