# A list of megabyte strings that grows without end.
def f():
    chunks = []
    while True:
        chunks.append("x" * 10**6 + str(len(chunks)))
