"""Writes a large tracemalloc dump for benchmarks (not committed).

    python3 bench_gen.py OUT.pickle [REPS] [SEED]

About 1.5 M traces with ~300 k distinct tracebacks (REPS=140): ~60 MB.
"""
import sys
import tracemalloc
import types

N = 500
DEPTH = 20
src = []
for i in range(N):
    src.append(f"""
def f{i}(depth, rep, acc):
    if depth % 3 == 0:
        acc.append(str(depth) * {1 + i % 7})
    elif depth % 3 == 1:
        acc.append([depth] * {1 + i % 5})
    else:
        acc.append((depth, rep, {i}))
    if depth > 0:
        FUNCS[({i} * 7 + depth + rep % 30) % {N}](depth - 1, rep, acc)
""")
mod = types.ModuleType("benchmod")
exec(compile("\n".join(src), "/srv/bench/generated_module.py", "exec"), mod.__dict__)
mod.FUNCS = [getattr(mod, f"f{i}") for i in range(N)]

out = sys.argv[1]
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 140
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
tracemalloc.start(25)
acc = []
for rep in range(reps):
    for i in range(N):
        mod.FUNCS[(i + seed) % N](DEPTH, rep, acc)
snap = tracemalloc.take_snapshot()
tracemalloc.stop()
snap.dump(out)
print(len(snap.traces), "traces")
