"""SFTrack++'s spectral step (Eq. 1 by 3-D filtering) against explicit power iteration with a sparse M.

Both run the same number of power-iteration steps from the same start on the same random S, F (SFTrack++'s
phase-2 constants: kernel (3, 5, 5), p 0.1, alpha 0.5), with the same per-frame normalisation after each
step. The explicit side builds ``M`` (``THW x THW``, ``kt * kh * kw`` non-zeros a row) as a torch sparse
CSR matrix and multiplies; its build time is reported apart from the iterations. Memory: the bytes of the
arrays each side holds (M's values and indices; our handful of volumes). Volumes whose M would exceed
``--max-explicit-gb`` run our side alone. Prints a table; asserts nothing about time.

    python benchmarks/sftrack_spectral.py [--iterations 2] [--repeats 3] [--max-explicit-gb 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from zoo.methods.sftrack.spectral import (
    SpectralSettings,
    adjacency_product,
    explicit_adjacency,
    normalize_per_frame,
    spectral_refine,
)

SIZES = [(8, 64, 64), (16, 128, 128), (32, 128, 128), (32, 256, 256)]
QUICK = [(4, 16, 16), (8, 32, 32)]


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _explicit_iterations(m: torch.Tensor, s: torch.Tensor, iterations: int) -> torch.Tensor:
    x = s.reshape(-1, 1)
    for _ in range(iterations):
        x = normalize_per_frame((m @ x).view(1, *s.shape)).reshape(-1, 1)
    return x.view(1, *s.shape)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-explicit-gb", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    ap.add_argument("--quick", action="store_true", help="two small volumes (a smoke run)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = SpectralSettings(iterations=args.iterations)
    taps = settings.kernel[0] * settings.kernel[1] * settings.kernel[2]
    print(f"Eq. 1, kernel {settings.kernel}, p {settings.p}, alpha {settings.alpha}, {args.iterations} iterations, "
          f"float32, {torch.get_num_threads()} threads; median of {args.repeats}")  # fmt: skip
    header = (f"{'volume':>12} {'nodes':>9} {'ours ms':>9} {'ours MB':>8} {'M build s':>9} {'explicit ms':>11} "
              f"{'M MB':>8} {'x faster':>8} {'max diff':>9} {'ours ns/node':>12} {'x w/ build':>10}")  # fmt: skip
    print(header)
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    for t, h, w in QUICK if args.quick else SIZES:
        g = torch.Generator().manual_seed(0)
        s = torch.rand(1, t, h, w, generator=g)
        f = torch.rand(1, t, h, w, generator=g)
        n = t * h * w
        ours_s, ours = _median_time(lambda s=s, f=f: spectral_refine(s, f, settings), args.repeats)
        ours_mb = 8 * n * 4 / 2**20  # S, F, X, S^p, three filtered volumes and a temporary
        m_bytes = n * taps * (4 + 8) + (n + 1) * 8  # CSR: float32 values, int64 columns and row pointers
        row = f"{f'{t}x{h}x{w}':>12} {n:>9} {ours_s * 1e3:>9.1f} {ours_mb:>8.1f}"
        if m_bytes / 2**30 > args.max_explicit_gb:
            print(
                row
                + f" {'-':>9} {'-':>11} {m_bytes / 2**20:>8.0f} {'(M does not fit)':>18} {ours_s / n * 1e9:>12.1f}"
            )
            continue
        t0 = time.perf_counter()
        m = explicit_adjacency(
            s[0], f[0], SpectralSettings(settings.kernel, settings.p, settings.alpha)
        ).to_sparse_csr()
        build = time.perf_counter() - t0
        exp_s, explicit = _median_time(
            lambda m=m, s=s: _explicit_iterations(m, s[0], args.iterations), args.repeats
        )
        diff = float((explicit - ours).abs().max())
        print(row + f" {build:>9.2f} {exp_s * 1e3:>11.1f} {m_bytes / 2**20:>8.0f} {exp_s / ours_s:>8.1f} "
              f"{diff:>9.1e} {ours_s / n * 1e9:>12.1f} {(build + exp_s) / ours_s:>10.0f}")  # fmt: skip
        del m
    # one step equals one explicit step: a float64 check on the smallest volume, independent of timing
    s64 = torch.rand(1, 4, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    m64 = explicit_adjacency(s64[0], s64[0], settings)
    one = adjacency_product(s64, s64, s64, settings).reshape(-1)
    print(
        f"float64 single step vs M @ x, 4x16x16: max |diff| = {float((one - m64 @ s64.reshape(-1)).abs().max()):.1e}"
    )


if __name__ == "__main__":
    main()
