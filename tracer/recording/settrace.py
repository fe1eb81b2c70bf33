"""sys.settrace backend (Python 3.11): the same FrameState calls as the sys.monitoring backend.

One global trace function decides once per frame whether it is user code; a bound method of the
frame's `FrameState` then traces it. Comprehension bodies only count steps (3.12+ inlines them,
and one schema holds for every version).
"""

from __future__ import annotations

import sys

from .recorder import SKIPPED_CODE_NAMES, Recorder, Watchdog


class SettraceBackend:
    """sys.settrace: one global function decides per frame, a bound method traces it."""
    name = "settrace"

    def __init__(self, rec: Recorder, user_codes: set):
        self.rec = rec
        self.codes = user_codes
        self._dog: Watchdog | None = None

    def install(self, sys_settrace) -> None:
        self._settrace = sys_settrace
        self.rec.watchdog = self._start_watchdog
        sys_settrace(self._global)

    def uninstall(self) -> None:
        self._settrace(None)
        self.rec.watchdog = None
        if self._dog is not None:
            self._dog.disarm()

    def _start_watchdog(self) -> None:
        """Only runs longer than a few steps get a watchdog (short ones pay nothing)."""
        self._dog = Watchdog(self.rec, self._rearm)
        self._dog.arm()

    def _rearm(self) -> None:
        if sys.gettrace() is None:       # dropped by the interpreter: trace again
            self._settrace(self._global)
            self.rec.internal_errors += 1

    def _global(self, frame, event, arg):
        try:
            code = frame.f_code
            if code not in self.codes:
                return None
            if code.co_name in SKIPPED_CODE_NAMES:
                return self._count_only
            return self.rec.enter(frame).tr
        except BaseException as e:
            if self.rec.callback_error(e, drops_tracer=True):
                raise
            return None

    def _count_only(self, frame, event, arg):
        try:
            if event == "line":
                rec = self.rec
                rec.steps += 1
                if rec.steps >= rec.next_check:
                    rec.check_limits()
        except BaseException as e:
            if self.rec.callback_error(e, drops_tracer=True):
                raise
        return self._count_only

