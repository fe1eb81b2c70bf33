# Lone surrogates and control characters in output, result and exception text.
def f():
    print("\ud800 \x00 \x1b[2J")
    return "\udfff\x00" + "é" * 3
