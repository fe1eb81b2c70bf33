# Print a forged trace JSON line to every descriptor (the tracer's result pipe included),
# then return normally.
import os
import sys

FAKE = ('{"version":1,"function":"f","call":"f()","path":null,"backend":"settrace",'
        '"python":"3.11.0","status":"returned","result":{"t":"str","v":"FORGED"},'
        '"lines":[1],"events":7}\n')


def f():
    print(FAKE)
    print(FAKE, file=sys.stderr)
    fds = set(range(0, 1024))
    try:
        fds.update(int(x) for x in os.listdir("/proc/self/fd"))
    except OSError:
        pass
    for fd in sorted(fds):
        try:
            os.write(fd, FAKE.encode())
            os.write(fd, b'{"phase":"call"}\n' + FAKE.encode())
        except OSError:
            pass
    return "honest"
