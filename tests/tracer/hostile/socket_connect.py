# Connect to a local TCP server (the test's own), without any name lookup.
import socket


def f(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", port))
    s.sendall(b"hello from the sandbox")
    return "connected"
