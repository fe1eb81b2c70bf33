# 100 MB of output.
def f():
    print("x" * 10**8)
    return "printed"
