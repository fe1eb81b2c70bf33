# Create a file directly in /tmp.
def f(path):
    with open(path, "w") as out:
        out.write("escaped")
    return "written"
