"""linear_assignment against brute-force enumeration of every (partial) matching on small matrices."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from zoo.core.assignment import linear_assignment


def _partial_matchings(n: int, m: int):
    """Every set of disjoint (row, col) pairs, including the empty one."""
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                yield list(zip(rows, cols))


def _brute_gated(cost: np.ndarray, thresh: float) -> float:
    """ByteTrack / lapjv(cost_limit) objective: max sum(thresh - c) over matchings of pairs with c <= thresh."""
    best = 0.0
    for pairs in _partial_matchings(*cost.shape):
        if all(cost[r, c] <= thresh for r, c in pairs):
            best = max(best, sum(thresh - cost[r, c] for r, c in pairs))
    return best


def _brute_full(cost: np.ndarray) -> tuple[int, float, list]:
    """Maximum number of finite pairs, then minimum cost among those matchings."""
    best = (-1, np.inf, [])
    for pairs in _partial_matchings(*cost.shape):
        if not all(np.isfinite(cost[r, c]) for r, c in pairs):
            continue
        total = sum(cost[r, c] for r, c in pairs)
        if len(pairs) > best[0] or (len(pairs) == best[0] and total < best[1]):
            best = (len(pairs), total, sorted(pairs))
    return best


def _check_partition(matches, ur, uc, n, m):
    assert matches.dtype == np.int64 and ur.dtype == np.int64 and uc.dtype == np.int64
    assert matches.shape[1] == 2
    assert sorted(matches[:, 0].tolist() + ur.tolist()) == list(range(n))
    assert sorted(matches[:, 1].tolist() + uc.tolist()) == list(range(m))
    assert list(matches[:, 0]) == sorted(matches[:, 0])


@pytest.mark.parametrize("seed", range(40))
def test_gated_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 5, size=2)
    cost = rng.uniform(0, 1, size=(n, m))
    if seed % 4 == 0:
        cost[rng.uniform(size=cost.shape) < 0.3] = np.inf  # forbidden pairs
    thresh = float(rng.uniform(0.2, 0.9))
    matches, ur, uc = linear_assignment(cost, thresh)
    _check_partition(matches, ur, uc, n, m)
    assert all(cost[r, c] <= thresh for r, c in matches)
    got = sum(thresh - cost[r, c] for r, c in matches)
    assert got == pytest.approx(_brute_gated(cost, thresh), abs=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_unthresholded_matches_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = rng.integers(1, 5, size=2)
    cost = rng.normal(size=(n, m)) * 10
    if seed % 2 == 0:
        cost[rng.uniform(size=cost.shape) < 0.4] = np.inf
    matches, ur, uc = linear_assignment(cost)
    _check_partition(matches, ur, uc, n, m)
    k, total, pairs = _brute_full(cost)
    assert len(matches) == k
    assert sum(cost[r, c] for r, c in matches) == pytest.approx(total, abs=1e-9)
    assert sorted(map(tuple, matches.tolist())) == pairs  # continuous costs: the optimum is unique


@pytest.mark.parametrize("seed", range(20))
def test_gate_after_is_full_solution_then_drop(seed):
    rng = np.random.default_rng(200 + seed)
    n, m = rng.integers(1, 5, size=2)
    cost = rng.uniform(size=(n, m))
    thresh = 0.5
    _, _, pairs = _brute_full(cost)
    expected = [p for p in pairs if cost[p] <= thresh]
    matches, ur, uc = linear_assignment(cost, thresh, gate="after")
    _check_partition(matches, ur, uc, n, m)
    assert sorted(map(tuple, matches.tolist())) == expected


def test_gate_semantics_differ_on_hand_example():
    cost = np.array([[0.1, 0.7], [0.2, 0.9]])
    # Full optimum is (0,1)+(1,0) = 0.9 < 1.0; SORT drops (0,1) (0.7 > 0.6) and keeps (1,0).
    m_after, ur, uc = linear_assignment(cost, 0.6, gate="after")
    assert m_after.tolist() == [[1, 0]] and ur.tolist() == [0] and uc.tolist() == [1]
    # ByteTrack forbids 0.7 and 0.9 up front, then prefers (0,0) (margin 0.5) over (1,0) (margin 0.4).
    m_solve, ur, uc = linear_assignment(cost, 0.6)
    assert m_solve.tolist() == [[0, 0]] and ur.tolist() == [1] and uc.tolist() == [1]


def test_threshold_is_inclusive_and_inf_threshold_is_none():
    cost = np.array([[0.5, 2.0], [2.0, 0.8]])
    assert linear_assignment(cost, 0.8, gate="after")[0].tolist() == [[0, 0], [1, 1]]
    assert linear_assignment(cost, 0.79)[0].tolist() == [[0, 0]]
    for a, b in zip(linear_assignment(cost, np.inf), linear_assignment(cost)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(0, 3), (4, 0), (0, 0)])
@pytest.mark.parametrize("thresh", [None, 0.5])
def test_empty_matrices(shape, thresh):
    matches, ur, uc = linear_assignment(np.zeros(shape), thresh)
    assert matches.shape == (0, 2) and matches.dtype == np.int64
    assert ur.tolist() == list(range(shape[0])) and uc.tolist() == list(range(shape[1]))


def test_all_forbidden_and_inf_pattern():
    m, ur, uc = linear_assignment(np.full((2, 3), np.inf))
    assert m.shape == (0, 2) and ur.tolist() == [0, 1] and uc.tolist() == [0, 1, 2]
    # The cheap diagonal is forbidden; the solver must use the off-diagonal despite its cost.
    cost = np.array([[np.inf, 100.0], [100.0, np.inf]])
    assert linear_assignment(cost)[0].tolist() == [[0, 1], [1, 0]]
    # Maximum cardinality first: two pairs at 50 each beat one pair at 0.
    cost = np.array([[0.0, 50.0], [50.0, np.inf]])
    assert linear_assignment(cost)[0].tolist() == [[0, 1], [1, 0]]
    # Nothing under the threshold
    assert linear_assignment(np.ones((2, 2)), 0.5)[0].shape == (0, 2)


def test_rectangular_matrices():
    cost = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.3]])
    matches, ur, uc = linear_assignment(cost)
    assert matches.tolist() == [[0, 1], [1, 0]] and ur.tolist() == [] and uc.tolist() == [2]
    matches, ur, uc = linear_assignment(cost.T)
    assert matches.tolist() == [[0, 1], [1, 0]] and ur.tolist() == [2] and uc.tolist() == []


@pytest.mark.parametrize("bad", [np.nan, -np.inf])
def test_nan_and_negative_inf_rejected(bad):
    cost = np.zeros((2, 2))
    cost[0, 1] = bad
    with pytest.raises(ValueError, match="NaN|-inf"):
        linear_assignment(cost)


def test_bad_arguments():
    with pytest.raises(ValueError, match="2-D"):
        linear_assignment(np.zeros(3))
    with pytest.raises(ValueError, match="gate"):
        linear_assignment(np.zeros((2, 2)), 0.5, gate="before")
    with pytest.raises(ValueError, match="thresh"):
        linear_assignment(np.zeros((2, 2)), float("nan"))


def test_raw_solver_is_scipys_without_importing_scipy_optimize():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from zoo.core.assignment import linear_sum_assignment as lsa\n"
        "r, c = lsa(np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]]))\n"
        "assert r.tolist() == [0, 1, 2] and c.tolist() == [1, 0, 2], (r, c)\n"
        "assert 'scipy.optimize' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    from scipy.optimize import linear_sum_assignment as scipy_lsa

    from zoo.core.assignment import linear_sum_assignment

    rng = np.random.default_rng(0)
    for shape in [(5, 5), (3, 7), (8, 2)]:
        cost = rng.integers(0, 3, shape).astype(float)  # many ties: the same tie-breaking is required
        for maximize in (False, True):
            ours, theirs = linear_sum_assignment(cost, maximize), scipy_lsa(cost, maximize=maximize)
            assert all(np.array_equal(x, y) for x, y in zip(ours, theirs, strict=True))
