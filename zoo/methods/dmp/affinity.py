"""Local-window affinity and label propagation: ``A_ij = softmax_j <q_i, k_j> / tau`` over the candidates j
a restriction allows, ``y_hat_i = sum_j A_ij v_j``.

Queries are the feature cells of one frame, candidates the cells of several reference frames; a candidate is
in query i's window when it lies within ``radius`` cells of i along both axes (a square window, the MAST/CRW
"spatial radius mask"). A branch of DMP's bidirectional prediction is a further restriction of that window
(same cluster; backward-predicted region). Rows a restriction leaves empty fall back to the plain window, so
no query ever has zero candidates (softmax over nothing would be NaN).

Shapes: query (Nq, C), keys (Nc, C), values (Nc, V), cell coordinates (N, 2) int64 ``(y, x)``. Two exact
ways to apply the window: blocks of query rows against every candidate, masked (memory O(chunk x Nc), time
O(Nq x Nc); training, differentiable with activation checkpointing), and tiles of query cells against the
candidates within the radius of the tile only (time O(Nq x (tile + 2r)^2 x frames); inference, ``tile=``):
at DAVIS 480p the tiles are 32x faster (``benchmarks/dmp_speed.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import torch
from torch.utils.checkpoint import checkpoint

__all__ = [
    "Restriction",
    "Window",
    "backward_restriction",
    "backward_topk",
    "cluster_restriction",
    "grid_coords",
    "propagate",
    "window_restriction",
]

#: ``allowed(q0, q1)`` -> (q1 - q0, Nc) bool: which candidates query rows q0..q1-1 may attend to.
Restriction = Callable[[int, int], torch.Tensor]


def grid_coords(h: int, w: int, frames: int = 1, device: torch.device | str | None = None) -> torch.Tensor:
    """(frames * h * w, 2) int64 ``(y, x)`` of every cell of ``frames`` stacked h x w grids (row-major)."""
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    one = torch.stack([ys.reshape(-1), xs.reshape(-1)], dim=1)
    return one.repeat(frames, 1)


@functools.lru_cache(maxsize=4)  # a 480p DAVIS grid (8160 cells) is a 66 MB mask
def _single_window(h: int, w: int, radius: int, device: str) -> torch.Tensor:
    c = grid_coords(h, w, device=device)
    single = torch.zeros(h * w, h * w, dtype=torch.bool, device=device)
    for i0 in range(0, h * w, 1024):  # blocks keep the int64 difference tensor small
        d = (c[i0 : i0 + 1024, None, :] - c[None, :, :]).abs()
        single[i0 : i0 + 1024] = (d[..., 0] <= radius) & (d[..., 1] <= radius)
    return single


class Window:
    """The square window: candidates within ``radius`` cells of the query along y and x (Chebyshev
    distance), on ``frames`` reference frames of the query's own h x w grid.

    The (h*w, h*w) mask of one frame is built once and tiled per block of query rows, so a call costs
    O(rows x frames x h*w) and nothing is recomputed per branch. Being symmetric, the same mask gives each
    candidate's window over the queries (:func:`backward_topk`).
    """

    def __init__(
        self, h: int, w: int, frames: int, radius: int, device: torch.device | str | None = None
    ) -> None:
        self.h, self.w, self.radius = int(h), int(w), int(radius)
        self.device = torch.device(device or "cpu")
        self.frames = int(frames)
        self.cells = h * w
        self._single: torch.Tensor | None = None

    @property
    def single(self) -> torch.Tensor:
        """The (h*w, h*w) mask of one frame, built on first use (the tiled path never needs it)."""
        if self._single is None:
            self._single = _single_window(self.h, self.w, self.radius, str(self.device))
        return self._single

    def __call__(self, q0: int, q1: int) -> torch.Tensor:
        return self.single[q0:q1].repeat(1, self.frames)

    @property
    def window(self) -> Window:
        return self

    def tiles(self, tile: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Square tiles of ``tile`` x ``tile`` query cells with their candidates: (query indices, candidate
        indices), the candidates being every reference frame's cells within ``radius`` of the tile (each
        query's whole window is among them). Row-major order; every query cell is in exactly one tile."""
        h, w, r, dev = self.h, self.w, self.radius, self.device
        frame_offsets = torch.arange(self.frames, device=dev)[:, None] * self.cells
        for y0 in range(0, h, tile):
            y1 = min(h, y0 + tile)
            for x0 in range(0, w, tile):
                x1 = min(w, x0 + tile)
                q = (
                    torch.arange(y0, y1, device=dev)[:, None] * w + torch.arange(x0, x1, device=dev)
                ).reshape(-1)
                cy = torch.arange(max(0, y0 - r), min(h, y1 + r), device=dev)
                cx = torch.arange(max(0, x0 - r), min(w, x1 + r), device=dev)
                cells = (cy[:, None] * w + cx).reshape(-1)
                yield q, (frame_offsets + cells).reshape(-1)

    def tile_mask(self, q: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """(len(q), len(c)) bool: the window between query cells ``q`` and candidate cells ``c`` (global
        indices; -1 pads ``c`` and is never allowed)."""
        qy, qx = q // self.w, q % self.w
        cell = c % self.cells
        cy, cx = cell // self.w, cell % self.w
        near = ((qy[:, None] - cy[None, :]).abs() <= self.radius) & (
            (qx[:, None] - cx[None, :]).abs() <= self.radius
        )
        return near & (c >= 0)[None, :]

    def of_candidates(self, c0: int, c1: int) -> torch.Tensor:
        """(c1 - c0, Nq) bool: the queries within reach of candidates c0..c1-1."""
        return self.single[torch.arange(c0, c1, device=self.single.device) % self.cells]


def window_restriction(
    h: int, w: int, frames: int, radius: int, device: torch.device | str | None = None
) -> Window:
    """The plain window over ``frames`` reference grids of size h x w (see :class:`Window`)."""
    return Window(h, w, frames, radius, device)


def _or_base(mask: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """``mask & base``, with rows left empty replaced by ``base`` (the plain window)."""
    m = mask & base
    empty = ~m.any(dim=1)
    if empty.any():
        m[empty] = base[empty]
    return m


class _ClusterRestriction:
    def __init__(self, base: Window, q_cluster: torch.Tensor, c_cluster: torch.Tensor) -> None:
        self.window, self.base = getattr(base, "window", base), base
        self.q_cluster, self.c_cluster = q_cluster, c_cluster

    def __call__(self, q0: int, q1: int) -> torch.Tensor:
        return _or_base(self.q_cluster[q0:q1, None] == self.c_cluster[None, :], self.base(q0, q1))

    def tile_mask(self, q: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        same = self.q_cluster[q][:, None] == self.c_cluster[c.clamp(min=0)][None, :]
        return _or_base(same, self.base.tile_mask(q, c))


def cluster_restriction(base: Window, q_cluster: torch.Tensor, c_cluster: torch.Tensor) -> Restriction:
    """The window limited to candidates in the query's own region cluster ((Nq,) and (Nc,) int ids)."""
    return _ClusterRestriction(base, q_cluster, c_cluster)


@torch.no_grad()
def backward_topk(
    query: torch.Tensor,
    keys: torch.Tensor,
    window: Window,
    k: int,
    chunk: int = 4096,
    tile: int | None = None,
) -> torch.Tensor:
    """Backward prediction: for every candidate cell j, the ``k`` query cells it matches best within its own
    window (the region j is predicted to move to), by ``<k_j, q_i>``.

    ``tile``: score each tile of candidate cells against the query cells within ``radius`` of it only
    (:meth:`Window.tiles`; the window is symmetric), instead of all queries in blocks of ``chunk``: the same
    answer at O(cells x window) instead of O(cells^2) (480p inference).

    Returns:
        (Nc, k) int64 query indices, -1 where the window holds fewer than ``k`` queries.
    """
    nq, nc = query.shape[0], keys.shape[0]
    k = min(int(k), nq)
    out = torch.full((nc, k), -1, dtype=torch.long, device=query.device)
    if tile is not None:
        single = Window(window.h, window.w, 1, window.radius, window.device)
        for cells, near in single.tiles(int(tile)):  # tiles of one frame's cells, and the queries near them
            for f in range(window.frames):
                c = cells + f * window.cells
                logits = (keys[c] @ query[near].T).masked_fill(~single.tile_mask(cells, near), float("-inf"))
                vals, idx = logits.topk(min(k, len(near)), dim=1)
                out[c, : idx.shape[1]] = torch.where(
                    torch.isfinite(vals), near[idx], torch.full_like(idx, -1)
                )
        return out
    for c0 in range(0, nc, chunk):
        c1 = min(nc, c0 + chunk)
        logits = (keys[c0:c1] @ query.T).masked_fill(~window.of_candidates(c0, c1), float("-inf"))
        vals, idx = logits.topk(k, dim=1)
        out[c0:c1] = torch.where(torch.isfinite(vals), idx, torch.full_like(idx, -1))
    return out


class _BackwardRestriction:
    def __init__(self, base: Window, backward: torch.Tensor, num_candidates: int) -> None:
        self.window, self.base = getattr(base, "window", base), base
        self.backward, self.nc = backward, int(num_candidates)

    def __call__(self, q0: int, q1: int) -> torch.Tensor:
        backward = self.backward
        cols = torch.arange(self.nc, device=backward.device)[:, None].expand_as(backward)
        keep = (backward >= q0) & (backward < q1)
        mask = torch.zeros(q1 - q0, self.nc, dtype=torch.bool, device=backward.device)
        mask[backward[keep] - q0, cols[keep]] = True
        return _or_base(mask, self.base(q0, q1))

    def tile_mask(self, q: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        lookup = torch.full((int(q.max()) + 1,), -1, dtype=torch.long, device=q.device)
        lookup[q] = torch.arange(len(q), device=q.device)
        back = self.backward[c.clamp(min=0)]  # (len(c), k) query indices
        ok = (c >= 0)[:, None] & (back >= 0) & (back < len(lookup))
        rows = torch.where(ok, lookup[back.clamp(0, len(lookup) - 1)], -1)
        ok &= rows >= 0
        cols = torch.arange(len(c), device=q.device)[:, None].expand_as(back)
        mask = torch.zeros(len(q), len(c), dtype=torch.bool, device=q.device)
        mask[rows[ok], cols[ok]] = True
        return _or_base(mask, self.base.tile_mask(q, c))


def backward_restriction(base: Window, backward: torch.Tensor, num_candidates: int) -> Restriction:
    """The window limited to candidates whose backward prediction (:func:`backward_topk`, (Nc, k)) contains
    the query: query i may attend to j only if j, predicted backward, lands on i (a cycle-consistent pair)."""
    return _BackwardRestriction(base, backward, num_candidates)


def propagate(
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    allowed: Restriction,
    *,
    temperature: float = 1.0,
    topk: int | None = None,
    chunk: int | None = None,
    tile: int | None = None,
) -> torch.Tensor:
    """Affinity-weighted reconstruction ``y_hat_i = sum_j softmax_j(<q_i, k_j> / tau) v_j``.

    Args:
        query: (Nq, C) query cell features.
        keys: (Nc, C) candidate cell features (all reference frames stacked).
        values: (Nc, V) what the candidates carry (colour channels, label probabilities).
        allowed: the candidates each query may use (every row must allow at least one).
        temperature: tau (1 at training, as ``softmax <q, k>``; 0.07 at inference).
        topk: keep only the k largest logits of each row before the softmax (inference: 10); None = all.
        chunk: query rows per block (None = all at once). With gradients enabled, blocks are recomputed in
            the backward pass (activation checkpointing).
        tile: score tiles of ``tile`` x ``tile`` query cells against the reference cells within the window
            radius of the tile only (:meth:`Window.tiles`; ``allowed`` must be a window or a restriction of
            one): the same result (to float rounding) at O(queries x window) work instead of
            O(queries x candidates), which at 480p is the difference between seconds and minutes a frame.
            Used without gradients (inference); None = the dense blocks.

    Returns:
        (Nq, V) reconstruction, differentiable in query, keys and values.
    """
    nq = query.shape[0]
    if tile is not None:
        return _propagate_tiled(query, keys, values, allowed, temperature, topk, int(tile))
    chunk = nq if chunk is None else max(1, int(chunk))
    # With gradients and several blocks, each block is recomputed in the backward pass instead of keeping
    # its (rows, Nc) softmax: training memory is O(chunk x Nc), not O(Nq x Nc) (paper size: 4096 queries x
    # 8 references x 4096 cells per clip).
    recompute = torch.is_grad_enabled() and chunk < nq
    outs = []
    for q0 in range(0, nq, chunk):
        q1 = min(nq, q0 + chunk)
        mask = allowed(q0, q1)
        if recompute:
            outs.append(
                checkpoint(_block, query[q0:q1], keys, values, mask, temperature, topk, use_reentrant=False)
            )
        else:
            outs.append(_block(query[q0:q1], keys, values, mask, temperature, topk))
    return torch.cat(outs, dim=0)


def _propagate_tiled(
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    allowed: Restriction,
    temperature: float,
    topk: int | None,
    tile: int,
) -> torch.Tensor:
    window = getattr(allowed, "window", None)
    if not isinstance(window, Window):
        raise TypeError(
            "tiled propagation needs a window restriction (window_restriction or a restriction of one)"
        )
    out = values.new_zeros(query.shape[0], values.shape[1])
    for q, c in window.tiles(tile):
        logits = ((query[q] @ keys[c].T) / temperature).masked_fill(~allowed.tile_mask(q, c), float("-inf"))
        out[q] = _reduce(logits, values[c], topk)
    return out


def _block(
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor,
    temperature: float,
    topk: int | None,
) -> torch.Tensor:
    logits = ((query @ keys.T) / temperature).masked_fill(~mask, float("-inf"))
    return _reduce(logits, values, topk)


def _reduce(logits: torch.Tensor, values: torch.Tensor, topk: int | None) -> torch.Tensor:
    """Softmax over each row's (top-k) logits, then the weighted sum of the candidates' values."""
    if topk is not None and topk < logits.shape[1]:
        vals, idx = logits.topk(int(topk), dim=1)
        return torch.einsum("nk,nkv->nv", torch.softmax(vals, dim=1), values[idx])
    return torch.softmax(logits, dim=1) @ values
