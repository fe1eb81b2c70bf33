# A socket through libc, past the audit hook.
import ctypes
import socket


def f():
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    return fd, ctypes.get_errno()
