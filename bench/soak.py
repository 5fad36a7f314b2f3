"""Memory over a long run, and time to the first frame: measured from outside the process.

    python3 bench/soak.py [--frames 20000] [--workers 2] [--resolution 640 480]

Starts `sim run` on bench/world.toml (full label set, as in bench/run.py), samples the RSS of
the main process and each worker once a second from /proc, and notes when the first frame's
image appears on disk. Prints RSS at the start, middle and end of the run per process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resolution", type=int, nargs=2, default=[640, 480])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "world.toml"
        width, height = args.resolution
        world.write_text(
            (HERE / "world.toml")
            .read_text()
            .replace("resolution = [640, 480]", f"resolution = [{width}, {height}]")
        )
        out = Path(tmp) / "out"
        start = time.perf_counter()
        child = subprocess.Popen(
            [
                "sim",
                "run",
                str(world),
                "--out",
                str(out),
                "--frames",
                str(args.frames),
                "--workers",
                str(args.workers),
                "--quiet",
            ]
        )
        first_frame = None
        samples: dict[int, list[float]] = {}
        while child.poll() is None:
            if first_frame is None and (out / "images" / "000000.jpg").exists():
                first_frame = time.perf_counter() - start
            for pid in [child.pid, *children(child.pid)]:
                if (mb := rss_mb(pid)) > 0:
                    samples.setdefault(pid, []).append(mb)
            time.sleep(1.0 if first_frame is not None else 0.02)
        seconds = time.perf_counter() - start
    print(
        f"{args.frames} frames at {width}x{height}, {args.workers} workers: {seconds:.0f} s, "
        f"{args.frames / seconds:.1f} frames/s; first frame on disk after {first_frame:.2f} s"
    )
    for pid, values in samples.items():
        if len(values) >= 3:
            third = len(values) // 3
            print(
                f"  process {pid}: RSS MB first {values[0]:.0f}, after a third "
                f"{values[third]:.0f}, at the end {values[-1]:.0f}, peak {max(values):.0f}"
            )


if __name__ == "__main__":
    main()
