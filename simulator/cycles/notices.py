"""What the Cycles renderer tells the user: a scene feature Cycles cannot express (a warning
naming it, once per process: a run's frames would otherwise repeat it thousands of times),
and where it renders (one line on stderr, once)."""

from __future__ import annotations

import sys
import warnings


class CyclesFeatureWarning(UserWarning):
    """A scene feature the Cycles renderer draws differently from the engine, or not at all."""


_told: set[str] = set()


def unsupported(feature: str) -> None:
    """Warn, once per process, that Cycles cannot express `feature`."""
    if feature in _told:
        return
    _told.add(feature)
    warnings.warn(f"Cycles: {feature}", CyclesFeatureWarning, stacklevel=3)


def note(message: str) -> None:
    """One line on stderr, once per process."""
    if message in _told:
        return
    _told.add(message)
    print(f"note: {message}", file=sys.stderr, flush=True)
