# A 100 MB file inside the run's own temporary directory.
def f():
    with open("big.bin", "wb") as out:
        for _ in range(100):
            out.write(bytes(10**6))
    return "written"
