# A DNS lookup.
import socket


def f():
    return socket.getaddrinfo("example.com", 80)
