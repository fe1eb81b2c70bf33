# A bytearray that grows without end.
def f():
    buf = bytearray()
    while True:
        buf.extend(bytes(10**7))
