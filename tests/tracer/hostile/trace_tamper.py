# Switch tracing off every way Python offers, then loop forever.
import sys
import threading


def f():
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    mon = getattr(sys, "monitoring", None)
    if mon is not None:
        for tool in range(6):
            try:
                mon.set_events(tool, 0)
                mon.free_tool_id(tool)
            except Exception:
                pass
    n = 0
    while True:
        n += 1
