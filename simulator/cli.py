"""The `sim` command line. User mistakes become one line on stderr and exit code 2; a run
that started and failed exits 1 (simulator.errors: USAGE, RUN_FAILED, INTERRUPTED)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from simulator.errors import Interrupted, SimError

if TYPE_CHECKING:
    from simulator.run.runner import RunSummary

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="sim: render labeled synthetic datasets from world files.",
    epilog="Exit codes: 0 done; 1 a run started and failed (the frames done are kept: fix the "
    "cause and rerun with --resume); 2 nothing was started (a bad command line, world file, "
    "plugin or output directory; nothing written); 130 interrupted (Ctrl-C; --resume "
    "finishes it).",
)
err = Console(stderr=True)


def _print_version(asked: bool) -> None:
    if asked:
        from simulator import __version__

        typer.echo(f"sim {__version__}")
        raise typer.Exit()


@app.callback()
def _sim(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print sim's version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """sim: render labeled synthetic datasets from world files."""


WorldArg = Annotated[
    Path,
    typer.Argument(
        help="A world file (.toml), or a bundled world's name (sim worlds).", show_default=False
    ),
]
PluginsDir = Annotated[
    list[Path] | None,
    typer.Option("--plugins-dir", help="Load every .py file in this directory as a plugin."),
]


class FramesPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:6.1f} frames/s" if speed else "   ... frames/s", style="cyan")


class PlainProgress:
    """Progress for a stderr that is no terminal: a plain line every PACE seconds (frames,
    frames/s, ETA), where rich's bar would print nothing until the end."""

    PACE = 5.0

    def __init__(self, name: str, total: int) -> None:
        self.name, self.total, self.frames, self.told = name, total, 0, -1
        self.began = self.said = time.monotonic()
        self._say()

    def advance(self, _: int) -> None:
        self.frames += 1
        if time.monotonic() - self.said >= self.PACE:
            self._say()

    def done(self) -> None:
        if self.told != self.frames:
            self._say()

    def _say(self) -> None:
        self.said = now = time.monotonic()
        self.told = self.frames
        rate = self.frames / (now - self.began) if now > self.began and self.frames else 0.0
        eta = f"{(self.total - self.frames) / rate:.0f} s" if rate else "-"
        print(
            f"{self.name}: {self.frames}/{self.total} frames, {rate:.1f} frames/s, ETA {eta}",
            file=sys.stderr,
            flush=True,
        )


def _workers(asked: int | None, backend: str) -> int:
    """--workers, or one per core; more processes than cores only share them, so a larger
    number is cut to the cores (and said), except on Ray, where the cluster decides."""
    cores = os.cpu_count() or 1
    if asked is None:
        return cores
    if asked > cores and backend == "local":
        err.print(
            f"note: --workers {asked} is more than this machine's {cores} cores; using {cores}",
            highlight=False,
        )
        return cores
    return max(asked, 1)


def _fail(error: SimError, resume: str = "") -> None:
    """One line and the error's exit code; for a run that stopped, how to finish it."""
    message = str(error)
    if error.dataset is not None and resume and "--resume" not in message:
        message += f"; the frames done are kept: once that is fixed, resume with: {resume}"
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


@app.command()
def run(
    world: WorldArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: the world's output dir)."),
    ] = None,
    frames: Annotated[
        int | None, typer.Option(help="Frames to render (default: the world's).")
    ] = None,
    start: Annotated[int, typer.Option(help="First frame index.")] = 0,
    seed: Annotated[int | None, typer.Option(help="Override the world's seed.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a dataset already in --out.")] = False,
    plugins_dir: PluginsDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the run's summary as one JSON object on stdout (for scripts); the "
            "progress stays on stderr.",
        ),
    ] = False,
    skip_failed_frames: Annotated[
        bool,
        typer.Option(
            help="Leave out a frame whose plugin raises (recorded in the manifest) instead of "
            "stopping."
        ),
    ] = False,
    trace_plugins: Annotated[
        bool, typer.Option(help="Print every plugin call on stderr (also: SIM_TRACE_PLUGINS=1).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-j",
            help="Rendering processes, this one included (default: the CPU cores).",
        ),
    ] = 0,
    resume: Annotated[
        bool,
        typer.Option(help="Continue an interrupted run in --out: redo only unfinished shards."),
    ] = False,
    shard_size: Annotated[int, typer.Option(hidden=True)] = 50,
    preview: Annotated[
        bool, typer.Option(help="Show each frame in a window as it is captured (one worker).")
    ] = False,
    backend: Annotated[
        str, typer.Option(help="local: worker processes here; ray: tasks on a Ray cluster.")
    ] = "local",
    address: Annotated[
        str, typer.Option(help="Ray cluster address (HOST:PORT or auto), with --backend ray.")
    ] = "auto",
    renderer: Annotated[
        str | None,
        typer.Option(
            help="Who renders the RGB: panda3d or cycles (Blender's path tracer; needs "
            "sim[cycles]). Overrides the world's [render] renderer; labels are the same."
        ),
    ] = None,
) -> None:
    """Render a world into a labeled dataset."""
    from simulator.run.options import RunCallbacks, RunOptions
    from simulator.run.runner import run as run_world
    from simulator.world.load import load_world
    from simulator.world.render import RENDERERS

    try:
        loaded = load_world(world)
        if seed is not None:
            if seed < 0:
                raise SimError(f"--seed must be >= 0, got {seed}")
            loaded.world.seed = seed
        if renderer is not None:
            if renderer not in RENDERERS:
                raise SimError(
                    f"--renderer must be one of {', '.join(RENDERERS)}, got {renderer!r}"
                )
            loaded.render.renderer = renderer  # type: ignore[assignment]
        total = frames if frames is not None else loaded.world.frames
        options = RunOptions(
            out,
            start=start,
            frames=frames,
            overwrite=overwrite,
            resume=resume,
            skip_failed=skip_failed_frames,
            workers=1 if preview else _workers(workers, backend),
            shard_size=max(shard_size, 1),
            backend=backend,
            address=address,
            plugins_dirs=tuple(plugins_dir or ()),
            trace=True if trace_plugins else None,
        )
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            FramesPerSecond(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        if preview and ((workers or 1) > 1 or backend != "local"):
            raise SimError("--preview shows frames rendered in this process: use --workers 1")
        live = None
        if preview:
            from simulator.preview.live import LiveWindow

            live = LiveWindow(f"sim run: {loaded.world.name}", loaded.camera.resolution)
        began = time.time()
        try:
            if not err.is_terminal and not quiet:  # a log file, CI: plain lines, no escapes
                lines = PlainProgress(loaded.world.name, total)
                callbacks = RunCallbacks(on_frame=lines.advance)
                summary = run_world(loaded, options, callbacks)
                lines.done()
            else:
                with Progress(*columns, console=err, disable=quiet, transient=False) as progress:
                    name = loaded.world.name
                    task = progress.add_task(name, total=total)
                    callbacks = RunCallbacks(
                        on_frame=lambda _: progress.advance(task),
                        on_shard=lambda done, total, active: progress.update(
                            task, description=f"{name} [{active} workers, shards {done}/{total}]"
                        ),
                        on_labels=live.show if live is not None else None,
                    )
                    summary = run_world(loaded, options, callbacks)
        finally:
            if live is not None:
                live.close()
    except SimError as error:
        again = _resume_command(world, error.dataset, start, frames, seed, renderer, plugins_dir)
        _fail(error, again)
    except Interrupted as stop:
        again = _resume_command(world, stop.root, start, frames, seed, renderer, plugins_dir)
        err.print(
            f"interrupted after {stop.frames_done} of {stop.frames} frames; resume with: " + again,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(_summary_record(summary)))
    if summary.already_complete:
        err.print(
            f"{summary.root} is already complete ({summary.frames} frames): nothing to resume",
            highlight=False,
            soft_wrap=True,
        )
    elif not quiet:
        err.print(
            f"wrote {summary.frames} frames ({summary.objects} labeled objects, "
            f"{summary.bytes / 1e6:.1f} MB) to {summary.root} in {summary.seconds:.1f} s, "
            f"{summary.frames_per_second:.1f} frames/s"
            + (
                f"; skipped {summary.skipped} failed frames (see manifest.json)"
                if summary.skipped
                else ""
            ),
            highlight=False,
            soft_wrap=True,
        )
        _report_prefiltering(began)


def _summary_record(summary: RunSummary) -> dict[str, object]:
    """What `sim run --json` prints."""
    return {
        "dataset": str(summary.root),
        "frames": summary.frames,
        "objects": summary.objects,
        "skipped_frames": summary.skipped,
        "bytes": summary.bytes,
        "seconds": round(summary.seconds, 3),
        "frames_per_second": round(summary.frames_per_second, 3) if summary.seconds > 0 else None,
        "already_complete": summary.already_complete,
    }


def _resume_command(
    world: Path | str,
    root: Path | None,
    start: int,
    frames: int | None,
    seed: int | None,
    renderer: str | None,
    plugins_dir: list[Path] | None,
) -> str:
    """The `sim run` that finishes a stopped run into `root`."""
    again = [f"sim run {world} --out {root} --resume"]
    again += [f"--start {start}"] * bool(start) + [f"--frames {frames}"] * (frames is not None)
    again += [f"--seed {seed}"] * (seed is not None)
    again += [f"--renderer {renderer}"] * (renderer is not None)
    again += [f"--plugins-dir {d}" for d in plugins_dir or ()]
    return " ".join(again)


def _report_prefiltering(began: float) -> None:
    """One line on the image-based light a run had to precompute (environments it met for
    the first time; the next run reads them from the cache)."""
    from simulator.engine import ibl

    count, seconds = ibl.prefiltered_since(began)
    if count:
        err.print(
            f"image-based light: prefiltered {count} new environment map"
            f"{'s' * (count != 1)} in {seconds:.1f} s, cached in {ibl.cache_dir()} for "
            "later runs",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def preview(
    world: WorldArg,
    rate: Annotated[
        float, typer.Option(help="Frames per second to step through (0: step on keys only).")
    ] = 1.0,
    start: Annotated[int, typer.Option(help="First frame index shown.")] = 0,
    seed: Annotated[int | None, typer.Option(help="Override the world's seed.")] = None,
    plugins_dir: PluginsDir = None,
    scale: Annotated[
        float | None,
        typer.Option(help="Window pixels per image pixel (default: fit the screen)."),
    ] = None,
    save_dir: Annotated[
        Path | None, typer.Option(help="Where `s` saves frames (default: out/preview).")
    ] = None,
    screenshot: Annotated[
        Path | None,
        typer.Option(help="Save the window's first complete picture as PNG, then exit."),
    ] = None,
) -> None:
    """Show a world's frames live in a window, as `sim run` captures them, with labels."""
    from simulator.preview.main import preview_main

    code = preview_main(world, rate, start, seed, plugins_dir or (), scale, save_dir, screenshot)
    if code:
        raise typer.Exit(code)


JsonFlag = Annotated[
    bool,
    typer.Option("--json", help="Print the result as one JSON object on stdout (for scripts)."),
]


@app.command()
def validate(world: WorldArg, plugins_dir: PluginsDir = None, as_json: JsonFlag = False) -> None:
    """Check a world file and its plugin parameters without rendering."""
    from simulator.capture.pipeline import Pipeline, host_for
    from simulator.capture.summary import pipeline_record
    from simulator.world.load import load_world

    try:
        loaded = load_world(world)
        pipeline = Pipeline(loaded, host_for(loaded, plugins_dir or ()))
    except SimError as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps({"world": str(world), **pipeline_record(pipeline)}))
        return
    typer.echo(
        f"{world}: ok ({len(pipeline.spawners)} spawners, {len(pipeline.randomizers)} "
        f"randomizers, categories: {', '.join(pipeline.categories) or 'none'})"
    )


@app.command()
def overlay(
    dataset: Annotated[Path, typer.Argument(help="A dataset directory written by `sim run`.")],
    frame: Annotated[int, typer.Option(help="Frame index.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="PNG to write (default: <dataset>/overlays/<frame>.png)."),
    ] = None,
) -> None:
    """Draw a frame's masks, boxes, 3D boxes and keypoints over its image (PNG)."""
    from simulator.dataset.layout import frame_name
    from simulator.report.overlay import overlay_frame

    try:
        image = overlay_frame(dataset, frame)
    except SimError as error:
        _fail(error)
    target = out or dataset / "overlays" / f"{frame_name(frame)}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target)
    typer.echo(str(target))


@app.command()
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    plugins_dir: PluginsDir = None,
) -> None:
    """List plugins: their spawners, randomizers, labelers and writers, with every parameter."""
    import json

    from simulator.plugin.catalog import catalog
    from simulator.plugin.host import PluginHost, plugin_files

    try:
        files = plugin_files(plugins_dir or ())
        host = PluginHost(files)
    except SimError as error:
        _fail(error)
    found = catalog(host)
    if as_json:
        typer.echo(json.dumps({"plugins": host.plugin_names(), **found}, indent=2, default=str))
        return
    for kind, components in found.items():
        typer.echo(f"{kind}:")
        for component in components:
            typer.echo(
                f"  {component['name']}  (plugin {component['plugin']}) {component['summary']}"
            )
            for p in component["parameters"]:
                default = json.dumps(p["default"], default=str)
                typer.echo(f"      {p['name']}: {p['type']} = {default}")
                if p["description"]:
                    typer.echo(f"          {p['description']}")


@app.command("inspect")
def inspect_command(
    dataset: Annotated[
        Path,
        typer.Argument(
            help="A dataset directory written by `sim run`, or a COCO annotations .json.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file to write (default: <dataset>/report.html)."),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(
            metavar="COCO_JSON",
            help="A COCO .json (or a sim dataset) to show side by side with DATASET.",
        ),
    ] = None,
    images: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Where DATASET's COCO images are (default: found beside the .json)."
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the report's numbers as one JSON object on stdout (the page is still "
            "written).",
        ),
    ] = False,
) -> None:
    """Report a dataset (classes, boxes, visibility, depth, keypoints, frames) as one HTML page."""
    from simulator.report.page import summary_text, write_report
    from simulator.report.record import stats_record

    try:
        target, stats = write_report(dataset, out, compare, images)
    except SimError as error:
        _fail(error)
    if as_json:
        records = [stats_record(s) for s in stats]
        typer.echo(json.dumps({"report": str(target), "datasets": records}))
        return
    typer.echo(summary_text(stats))
    typer.echo(f"report: {target}")


@app.command()
def replay(
    dataset: Annotated[Path, typer.Argument(help="A dataset directory written by `sim run`.")],
    frame: Annotated[int, typer.Option(help="The frame index to render again.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to write it (default: <dataset>/replay/<frame>)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an earlier replay (a sim dataset) at --out.")
    ] = False,
    trust_plugins: Annotated[
        bool,
        typer.Option(help="Run the plugin files the dataset's manifest names (they are code)."),
    ] = False,
) -> None:
    """Re-render exactly one frame of a finished run from its manifest (same pixels, labels)."""
    from simulator.dataset.layout import frame_name
    from simulator.run.replay import replay as replay_frame

    target = out or dataset / "replay" / frame_name(frame)
    try:
        replay_frame(dataset, frame, target, overwrite, trust_plugins)
    except SimError as error:
        _fail(error)
    typer.echo(str(target))


@app.command("export")
def export_command(
    dataset: Annotated[Path, typer.Argument(help="A dataset directory written by `sim run`.")],
    frame: Annotated[int, typer.Option(help="The frame index to export.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="The .glb to write (its environment goes beside it as .hdr)."
        ),
    ],
    trust_plugins: Annotated[
        bool,
        typer.Option(help="Run the plugin files the dataset's manifest names (they are code)."),
    ] = False,
) -> None:
    """Write one frame's scene as glTF 2.0 (.glb): meshes, materials, camera and lights."""
    from simulator.export.frame import export_frame

    try:
        done = export_frame(dataset, frame, out, trust_plugins)
    except SimError as error:
        _fail(error)
    for note in done.notes:
        err.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    beside = f" and its environment {done.environment}" if done.environment else ""
    typer.echo(
        f"wrote {done.glb} (frame {frame}: {done.entities} entities, a camera, "
        f"{done.lights} light{'s' * (done.lights != 1)}){beside}"
    )


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    plugins_dir: PluginsDir = None,
) -> None:
    """Print the JSON Schema of world files, with every installed plugin's parameters."""
    import json

    from simulator.plugin.host import PluginHost, plugin_files
    from simulator.plugin.schema import world_schema

    try:
        files = plugin_files(plugins_dir or ())
        text = json.dumps(world_schema(PluginHost(files)), indent=2) + "\n"
    except SimError as error:
        _fail(error)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(str(out))


@app.command("new-plugin")
def new_plugin_command(
    name: Annotated[
        str,
        typer.Argument(
            help="Plugin name: lowercase letters, digits and underscores (e.g. my_pipes); "
            "names sim-NAME/, the module sim_NAME and the entry point.",
            show_default=False,
        ),
    ],
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to create sim-NAME/ (default: here).")
    ] = Path("."),
) -> None:
    """Create sim-NAME/: an installable plugin package with tests and an example world."""
    from simulator.plugin.scaffold import new_plugin

    try:
        path = new_plugin(name, directory)
    except (ValueError, FileExistsError) as error:
        _fail(SimError(str(error)))
    typer.echo(f"created {path}\nnext: cd {path} && pip install -e . && python -m pytest")


@app.command()
def worlds(as_json: JsonFlag = False) -> None:
    """List the bundled worlds: `sim run NAME` runs one from any directory."""
    from simulator.world.load import bundled_worlds

    found = []
    for name, path in bundled_worlds().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        about = lines[0].removeprefix("#").strip() if lines and lines[0].startswith("#") else ""
        found.append({"name": name, "about": about, "path": str(path)})
    if as_json:
        typer.echo(json.dumps({"worlds": found}))
        return
    for world in found:
        typer.echo(f"{world['name']:10} {world['about']}\n{'':10} {world['path']}")


@app.command()
def version() -> None:
    """Print sim's version."""
    from simulator import __version__

    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
