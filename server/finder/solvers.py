async def solve(problem, params, budget):
    return []
def peer(name, code, func, output, input_src, budget):
    return None
