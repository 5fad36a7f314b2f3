"""Helpers for tests that compare datasets."""

from pathlib import Path


def dataset_files(root: Path) -> dict[str, bytes]:
    """Every file of a dataset but the manifest (which records timestamps), by relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }
