"""User signal handlers run where the tracer sees them, and their exceptions reach user code.

Python runs a signal handler at the next bytecode boundary of whatever Python code is running.
During a run that is often one of our trace callbacks, and there CPython traces nothing: the
handler, and all it calls, would run unseen. Its lines would be missing from the trace, what it
changed would be put down to the next user line, and a handler that loops would be stopped by
the deadline with another line named as the hot one. Worse, an exception it raises (the usual
way to end a loop on SIGALRM) would land in our callback, not in the user's code.

So in the sandboxed child, `signal.signal` installs a user handler behind a `UserHandler`.
When the signal arrives while our code runs during the call, the handler is called through
`sys.call_tracing`, traced as a call made by the user line that was running; afterwards the
recorder's current frame is set back (`resync`). On 3.11 `sys.call_tracing` traces nothing
there: the handler still runs untraced, and a timeout while it runs says so. An exception it
raises is marked (`passes`): our callbacks let it through to the user's code, as it would go
without tracing. (The settrace backend stops recording there: CPython drops a trace function
that raises.)

`signal.getsignal` and the value `signal.signal` returns still give the user's own handler.
Handlers of ours (the watchdog's) are installed as they are. Code that calls `_signal.signal`
directly is not covered.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType

_OURS = __name__.rsplit(".", 2)[0] + "."        # "tracecot.tracer."
_real_signal = signal.signal
_real_getsignal = signal.getsignal
_call_tracing = sys.call_tracing

# Set by the child: resync(user_frame) after a handler ran in our code.
resync: Callable[[FrameType], None] | None = None
closed = False         # set by the child when the call is over: user handlers no longer run
_passing: list = []    # the exception a handler raised in our code, on its way to user code
# 3.11's sys.call_tracing does not turn tracing back on inside a trace function: there the
# handler runs untraced, and `untraced` names it while it runs (for a timeout's message).
TRACED_INSIDE = sys.version_info >= (3, 12)
untraced: list = []


def _ours(frame) -> bool:
    return str(frame.f_globals.get("__name__", "")).startswith(_OURS)


def _first_user(frame):
    """`frame` or the nearest frame above it that is not ours (None: none is)."""
    while frame is not None and _ours(frame):
        frame = frame.f_back
    return frame


def running_untraced(frame):
    """(innermost user frame, handler name) when `frame`'s stack runs a handler untraced."""
    if not untraced:
        return None
    frame = _first_user(frame)
    h = untraced[-1]
    return None if frame is None else (frame, getattr(h, "__qualname__", type(h).__name__))


def passes(exc: BaseException) -> bool:
    """Is `exc` a user handler's, raised inside one of our callbacks? (Then it goes on.)"""
    if _passing and _passing[0] is exc:
        _passing.clear()
        return True
    return False


class UserHandler:
    """A user handler, installed in its place (see the module docstring)."""
    __slots__ = ("handler",)

    def __init__(self, handler):
        self.handler = handler

    def __call__(self, signum, frame):
        if closed:             # the trace is being written (the child ignores them next)
            return None
        if frame is None or not _ours(frame):
            return self.handler(signum, frame)
        user = _first_user(frame.f_back)
        if user is None:       # not during the call: before it, or while the trace is written
            return self.handler(signum, frame)
        if not TRACED_INSIDE:
            untraced.append(self.handler)
        try:
            return _call_tracing(self.handler, (signum, user))
        except BaseException as e:
            _passing[:] = [e]
            raise
        finally:
            if not TRACED_INSIDE:
                untraced.pop()
            if resync is not None:
                resync(user)


def _user(handler):
    return handler.handler if type(handler) is UserHandler else handler


def _signal_signal(signalnum, handler):
    if callable(handler) and not str(getattr(handler, "__module__", "")).startswith(_OURS):
        handler = UserHandler(handler)
    return _user(_real_signal(signalnum, handler))


def _signal_getsignal(signalnum):
    return _user(_real_getsignal(signalnum))


for _mine, _theirs in ((_signal_signal, _real_signal), (_signal_getsignal, _real_getsignal)):
    _mine.__name__, _mine.__qualname__, _mine.__doc__ = \
        _theirs.__name__, _theirs.__qualname__, _theirs.__doc__


def install() -> None:
    """In the child, before the user's module loads."""
    signal.signal = _signal_signal
    signal.getsignal = _signal_getsignal
