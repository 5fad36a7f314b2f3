"""Watching the hook calls pluggy makes: a trace line per plugin call, and the blame.

sim calls every hook through pluggy, so plugins' wrappers (`@hookimpl(wrapper=True)` or
`hookwrapper=True`) run around the implementations, in pluggy's order. `HookCalls` is
installed with `pm.add_hookcall_monitoring`, which is outside every wrapper: it sees each call
before anything runs and its outcome after the last wrapper is done, so a plugin's wrapper
cannot get between sim's blame and the caller.

pluggy calls all implementations of a hook in one loop and reports no more than the
exception, so the traceback tells which plugin raised: the deepest frame that runs the code
of one of the call's implementations (a wrapper's included) is the culprit's.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping, Sequence
from types import CodeType

import pluggy

from simulator.errors import PluginError, SimError

REGISTER_PREFIX = "sim_register_"


def frame_of(kwargs: Mapping[str, object]) -> int | None:
    """The frame a hook is called for: its `frame` argument, an index or a frame's labels."""
    frame = kwargs.get("frame")
    index = getattr(frame, "index", frame)
    return index if isinstance(index, int) else None


def where(kwargs: Mapping[str, object]) -> str:
    frame = frame_of(kwargs)
    return f" at frame {frame}" if frame is not None else ""


def code_of(function: object) -> CodeType | None:
    """The code a frame runs when pluggy calls `function` (a function or a bound method)."""
    return getattr(getattr(function, "__func__", function), "__code__", None)


def culprit(error: BaseException, impls: Sequence[pluggy.HookImpl]) -> str:
    """Which plugin raised `error` in a call of `impls`, quoted: "'name'". When the traceback
    runs no implementation's own code (pluggy refused the call, say) every plugin of the call
    is named, "'a' or 'b'"."""
    plugins: dict[CodeType, list[str]] = {}
    for impl in impls:
        code = code_of(impl.function)
        if code is not None:
            plugins.setdefault(code, []).append(impl.plugin_name)
    names = [impl.plugin_name for impl in impls]
    for frame, _ in traceback.walk_tb(error.__traceback__):
        names = plugins.get(frame.f_code, names)
    return " or ".join(repr(name) for name in dict.fromkeys(names))


class HookCalls:
    """The `before` and `after` of `pm.add_hookcall_monitoring`, for every sim hook."""

    def __init__(self, tracing: bool) -> None:
        self.tracing = tracing

    def trace(self, message: str) -> None:
        """With SIM_TRACE_PLUGINS=1 (or --trace-plugins), one line per plugin call on stderr."""
        if self.tracing:
            print(f"sim trace: {message}", file=sys.stderr, flush=True)

    def before(
        self, hook: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
    ) -> None:
        """A line per implementation about to run, wrappers first, in pluggy's order (the
        lines come before the calls: pluggy makes them all in one loop)."""
        if self.tracing:
            for impl in reversed(impls):
                kind = " (wrapper)" if impl.wrapper or impl.hookwrapper else ""
                self.trace(f"{hook}(){where(kwargs)} -> plugin {impl.plugin_name!r}{kind}")

    def after(
        self,
        outcome: pluggy.Result[object],
        hook: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
    ) -> None:
        """Turn a plugin's exception into a PluginError naming the plugin, the hook and the
        frame. sim's own errors pass as they are (a registration's PluginError; any SimError
        of a lifecycle hook), and so do KeyboardInterrupt and the like."""
        error = outcome.exception
        registering = hook.startswith(REGISTER_PREFIX)
        passes = PluginError if registering else SimError
        if not isinstance(error, Exception) or isinstance(error, passes):
            return
        name, kind = culprit(error, impls), type(error).__name__
        if registering:
            blamed = PluginError(f"plugin {name} raised in {hook}: {kind}: {error}")
        else:
            blamed = PluginError(f"plugin {name} raised {kind}: {error} in {hook}(){where(kwargs)}")
        blamed.__cause__ = error
        outcome.force_exception(blamed)
