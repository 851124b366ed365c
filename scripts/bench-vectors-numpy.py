#!/usr/bin/env python3
"""The numpy baseline for `videobus bench vectors`: exact top-k by cosine over
a float32 matrix of unit rows, as `X @ q` then `argpartition` (then a sort of
the k survivors), on the same shape and the same number of timed queries.

    python3 scripts/bench-vectors-numpy.py --documents 100000 --dimensions 384 --queries 500 --k 10

numpy's matrix-vector product goes through its BLAS (OpenBLAS in the PyPI
wheels), which may use every core; OPENBLAS_NUM_THREADS=1 measures one core.
"""
import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--dimensions", type=int, default=384)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    matrix = rng.standard_normal((args.documents, args.dimensions), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    load = time.perf_counter() - start
    queries = rng.standard_normal((args.queries + 20, args.dimensions), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    k = min(args.k, args.documents)

    def search(query: np.ndarray) -> np.ndarray:
        scores = matrix @ query
        top = np.argpartition(-scores, k - 1)[:k]
        return top[np.argsort(-scores[top], kind="stable")]

    for query in queries[: 20]:  # warm-up
        search(query)
    samples = []
    for query in queries[20:]:
        before = time.perf_counter_ns()
        search(query)
        samples.append((time.perf_counter_ns() - before) / 1e6)
    samples.sort()

    def quantile(q: float) -> float:
        return samples[min(len(samples) - 1, int(len(samples) * q))]

    print(f"numpy {np.__version__}: {args.documents} documents x {args.dimensions} dimensions float32 "
          f"({matrix.nbytes / 1e6:.1f} MB), built in {load:.2f} s; top-{k}, {len(samples)} timed queries")
    print(f"  p50 {quantile(0.5):.3f} ms  p90 {quantile(0.9):.3f} ms  p99 {quantile(0.99):.3f} ms  max {samples[-1]:.3f} ms")


if __name__ == "__main__":
    main()
