"""sys.monitoring backend (Python 3.12+): the same FrameState calls as the settrace backend.

Events are enabled locally on the user's code objects only, so library code runs at full
speed. Callbacks get code objects, not frames; the frame is `sys._getframe(1)`.

LINE fires only when the line number changes, so a loop written on one line (`while n: n -= 1`)
would give one LINE event for all its iterations (bindings missed, steps not counted: an
infinite one-line loop would escape the step cap). JUMP events stand in for those: a backward
jump that stays on its line counts as that line running again; every other jump location
returns DISABLE the first time it fires, so it costs nothing afterwards.
"""

from __future__ import annotations

import sys

from .recorder import SKIPPED_CODE_NAMES, Recorder, Watchdog

TOOL_ID = 0  # sys.monitoring.DEBUGGER_ID

# Held here so that user code replacing sys.monitoring's functions cannot reach ours.
_mon = sys.monitoring  # type: ignore[attr-defined]  # 3.12+, imported only there
_use_tool_id, _free_tool_id = _mon.use_tool_id, _mon.free_tool_id
_register_callback, _set_events, _set_local_events = (
    _mon.register_callback, _mon.set_events, _mon.set_local_events)
_E = _mon.events
_getframe = sys._getframe
_DISABLE = _mon.DISABLE


def _line_at(code, offset: int):
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return line
    return None


class MonitoringBackend:
    name = "monitoring"

    def __init__(self, rec: Recorder, user_codes: set):
        self.rec = rec
        self.codes = user_codes
        self._dog: Watchdog | None = None   # for the deadline only, once needed

    def install(self, _sys_settrace=None) -> None:
        E = _E
        _use_tool_id(TOOL_ID, "tracecot")
        self.rec.watchdog = self._start_watchdog
        callbacks = {
            E.PY_START: self._start, E.PY_RESUME: self._start, E.LINE: self._line,
            E.PY_RETURN: self._return, E.PY_YIELD: self._yield, E.RAISE: self._raise,
            E.EXCEPTION_HANDLED: self._handled, E.PY_UNWIND: self._unwind,
            E.JUMP: self._jump,
        }
        for event, fn in callbacks.items():
            _register_callback(TOOL_ID, event, fn)
        traced = E.PY_START | E.PY_RESUME | E.LINE | E.PY_RETURN | E.PY_YIELD | E.JUMP
        counted = E.LINE | E.JUMP
        for code in self.codes:
            if code.co_name == "<module>":
                continue
            mask = counted if code.co_name in SKIPPED_CODE_NAMES else traced
            _set_local_events(TOOL_ID, code, mask)
        # Exception events cannot be local: enabled globally, filtered by code object.
        _set_events(TOOL_ID, E.RAISE | E.EXCEPTION_HANDLED | E.PY_UNWIND)

    def uninstall(self) -> None:
        self.rec.watchdog = None
        if self._dog is not None:
            self._dog.disarm()
        _set_events(TOOL_ID, 0)
        for code in self.codes:
            if code.co_name != "<module>":
                _set_local_events(TOOL_ID, code, 0)
        _free_tool_id(TOOL_ID)

    def _start_watchdog(self) -> None:
        self._dog = Watchdog(self.rec)   # monitoring is never dropped: no re-arm needed
        self._dog.arm()

    def _state(self, frame):
        st = self.rec.states.get(id(frame))
        return st if st is not None and st.frame is frame else None

    # Every callback catches BaseException: an error of ours (a RecursionError at the user's
    # recursion limit, a MemoryError) must neither reach user code nor stop the tracing; only
    # a user signal handler's goes on (Recorder.callback_error).
    def _start(self, code, offset):
        try:
            if code.co_name not in SKIPPED_CODE_NAMES:
                self.rec.enter(_getframe(1))
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise

    def _line(self, code, lineno):
        try:
            frame = _getframe(1)
            st = self.rec.states.get(id(frame))
            if st is not None and st.frame is frame:
                st.line(frame, lineno)
            else:   # comprehension/generator expression bodies: counted against the limits only
                rec = self.rec
                rec.steps += 1
                if rec.steps >= rec.next_check:
                    rec.check_limits()
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise

    def _jump(self, code, offset, dest):
        """A backward jump within one line: that line runs again (see the module docstring)."""
        if dest >= offset or _line_at(code, dest) != _line_at(code, offset):
            return _DISABLE
        try:
            frame = _getframe(1)
            st = self.rec.states.get(id(frame))
            if st is not None and st.frame is frame:
                st.line(frame, frame.f_lineno)
            else:
                rec = self.rec
                rec.steps += 1
                if rec.steps >= rec.next_check:
                    rec.check_limits()
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise

    def _return(self, code, offset, value):
        try:
            frame = _getframe(1)
            st = self._state(frame)
            if st is not None:
                st.returned(frame, value, frame.f_lineno)
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise

    def _yield(self, code, offset, value):
        try:
            frame = _getframe(1)
            st = self._state(frame)
            if st is not None:
                st.yielded(frame, value, frame.f_lineno)
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise

    def _raise(self, code, offset, exc):
        if code not in self.codes:
            return
        try:
            frame = _getframe(1)
            st = self._state(frame)
            if st is not None:
                # RAISE fires again in every frame the exception passes through: it was raised
                # here only if the innermost traceback entry is this frame.
                tb = exc.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                here = tb is None or tb.tb_frame is frame
                st.raised(frame, exc, frame.f_lineno, here=here)
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise

    def _handled(self, code, offset, exc):
        if code not in self.codes:
            return
        try:
            frame = _getframe(1)
            st = self._state(frame)
            if st is not None and st.pending_exc is None:
                st.pending_exc = (type(exc).__name__, frame.f_lineno)
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise

    def _unwind(self, code, offset, exc):
        if code not in self.codes:
            return
        try:
            frame = _getframe(1)
            st = self._state(frame)
            if st is not None:
                if st.pending_exc is None:
                    st.pending_exc = (type(exc).__name__, frame.f_lineno)
                st.unwound(frame, frame.f_lineno)
        except BaseException as e:
            if self.rec.callback_error(e):    # a user signal handler's: on to user code
                raise
