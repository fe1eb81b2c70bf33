# Write a forged trace to the result pipe, then kill its own process so that the real trace is
# never written.
import os
import signal

FAKE = ('{"version":1,"function":"f","call":"f()","path":null,"backend":"settrace",'
        '"python":"3.11.0","status":"returned","result":{"t":"str","v":"FORGED"}}\n')


def f(how):
    for name in os.listdir("/proc/self/fd"):
        try:
            os.write(int(name), FAKE.encode())
        except OSError:
            pass
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "segv":
        import ctypes
        ctypes.string_at(0)
    else:
        import posix
        posix._exit(0)
