# Remove the tracer from its own frame, then loop forever untraced.
import sys


def f():
    frame = sys._getframe()
    frame.f_trace_lines = False
    frame.f_trace = None
    n = 0
    while True:
        n += 1
