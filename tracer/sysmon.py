"""sys.monitoring backend (Python 3.12+): the same FrameState calls as the settrace backend.

Events are enabled locally on the user's code objects only, so library code runs at full
speed. Callbacks get code objects, not frames; the frame is `sys._getframe(1)`.
"""

from __future__ import annotations

import sys

from .capture import SKIPPED_CODE_NAMES, Recorder

TOOL_ID = 0  # sys.monitoring.DEBUGGER_ID

# Held here so that user code replacing sys.monitoring's functions cannot reach ours.
_mon = sys.monitoring
_use_tool_id, _free_tool_id = _mon.use_tool_id, _mon.free_tool_id
_register_callback, _set_events, _set_local_events = (
    _mon.register_callback, _mon.set_events, _mon.set_local_events)
_E = _mon.events


class MonitoringBackend:
    name = "monitoring"

    def __init__(self, rec: Recorder, user_codes: set):
        self.rec = rec
        self.codes = user_codes

    def install(self, _sys_settrace=None) -> None:
        E = _E
        _use_tool_id(TOOL_ID, "tracecot")
        callbacks = {
            E.PY_START: self._start, E.PY_RESUME: self._start, E.LINE: self._line,
            E.PY_RETURN: self._return, E.PY_YIELD: self._yield, E.RAISE: self._raise,
            E.EXCEPTION_HANDLED: self._handled, E.PY_UNWIND: self._unwind,
        }
        for event, fn in callbacks.items():
            _register_callback(TOOL_ID, event, fn)
        traced = E.PY_START | E.PY_RESUME | E.LINE | E.PY_RETURN | E.PY_YIELD
        counted = E.LINE
        for code in self.codes:
            if code.co_name == "<module>":
                continue
            mask = counted if code.co_name in SKIPPED_CODE_NAMES else traced
            _set_local_events(TOOL_ID, code, mask)
        # Exception events cannot be local: enabled globally, filtered by code object.
        _set_events(TOOL_ID, E.RAISE | E.EXCEPTION_HANDLED | E.PY_UNWIND)

    def uninstall(self) -> None:
        _set_events(TOOL_ID, 0)
        for code in self.codes:
            if code.co_name != "<module>":
                _set_local_events(TOOL_ID, code, 0)
        _free_tool_id(TOOL_ID)

    def _state(self, frame):
        st = self.rec.states.get(id(frame))
        return st if st is not None and st.frame is frame else None

    def _start(self, code, offset):
        if code.co_name not in SKIPPED_CODE_NAMES:
            self.rec.enter(sys._getframe(1))

    def _line(self, code, lineno):
        frame = sys._getframe(1)
        st = self.rec.states.get(id(frame))
        if st is not None and st.frame is frame:
            st.line(frame, lineno)
        else:   # comprehension/generator expression bodies: counted against the limits only
            rec = self.rec
            rec.steps += 1
            if rec.steps > rec.max_steps or not rec.steps & 1023:
                rec.check_limits()

    def _return(self, code, offset, value):
        frame = sys._getframe(1)
        st = self._state(frame)
        if st is not None:
            st.returned(frame, value, frame.f_lineno)

    def _yield(self, code, offset, value):
        frame = sys._getframe(1)
        st = self._state(frame)
        if st is not None:
            st.yielded(frame, value, frame.f_lineno)

    def _raise(self, code, offset, exc):
        if code not in self.codes:
            return
        frame = sys._getframe(1)
        st = self._state(frame)
        if st is not None:
            # RAISE fires again in every frame the exception passes through: it was raised
            # here only if the innermost traceback entry is this frame.
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            here = tb is None or tb.tb_frame is frame
            st.raised(frame, exc, frame.f_lineno, here=here)

    def _handled(self, code, offset, exc):
        if code not in self.codes:
            return
        frame = sys._getframe(1)
        st = self._state(frame)
        if st is not None and st.pending_exc is None:
            st.pending_exc = (type(exc).__name__, frame.f_lineno)

    def _unwind(self, code, offset, exc):
        if code not in self.codes:
            return
        frame = sys._getframe(1)
        st = self._state(frame)
        if st is not None:
            if st.pending_exc is None:
                st.pending_exc = (type(exc).__name__, frame.f_lineno)
            st.unwound(frame, frame.f_lineno)
