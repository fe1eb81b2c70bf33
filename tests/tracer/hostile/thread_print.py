# A thread that prints.
import threading


def f():
    t = threading.Thread(target=print, args=("from a thread",))
    t.start()
    t.join()
    return "joined"
