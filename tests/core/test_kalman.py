"""Kalman core and the two box motion models, checked against hand-written matrix equations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from zoo.core.kalman import (
    CHI2INV95,
    KalmanFilterXYAH,
    KalmanFilterXYSR,
    LinearKalman,
    xyah_to_xyxy,
    xysr_to_xyxy,
    xyxy_to_xyah,
    xyxy_to_xysr,
)

WP, WV = 1 / 20, 1 / 160  # DeepSORT / ByteTrack std weights


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def _random_tracks(model, rng, k):
    """K tracks with non-trivial velocities and covariances: initiate, then a few noisy updates."""
    boxes = rng.uniform(10, 200, size=(k, 2))
    boxes = np.concatenate([boxes, boxes + rng.uniform(20, 80, size=(k, 2))], axis=1)
    conv = xyxy_to_xyah if isinstance(model, KalmanFilterXYAH) else xyxy_to_xysr
    mean, cov = model.initiate(conv(boxes))
    for _ in range(3):
        mean, cov = model.predict(mean, cov)
        boxes = boxes + rng.normal(0, 2, size=boxes.shape) + 3
        mean, cov = model.update(mean, cov, conv(boxes))
    return mean, cov


# ---------------------------------------------------------------------------------------------- hand equations
def test_xyah_one_step_matches_deepsort_equations():
    kf = KalmanFilterXYAH()
    z0 = np.array([320.0, 240.0, 0.4, 120.0])
    mean, cov = kf.initiate(z0)
    h = 120.0
    np.testing.assert_allclose(mean, [320, 240, 0.4, 120, 0, 0, 0, 0])
    std0 = [2 * WP * h, 2 * WP * h, 1e-2, 2 * WP * h, 10 * WV * h, 10 * WV * h, 1e-5, 10 * WV * h]
    np.testing.assert_allclose(cov, np.diag(np.square(std0)))
    mean = mean + np.array([0, 0, 0, 0, 2.0, -1.0, 0.001, 0.5])  # give it a velocity

    F = np.eye(8)
    for i in range(4):
        F[i, 4 + i] = 1.0
    Q = np.diag(np.square([WP * h, WP * h, 1e-2, WP * h, WV * h, WV * h, 1e-5, WV * h]))
    m_ref = F @ mean
    P_ref = F @ cov @ F.T + Q
    m_pred, P_pred = kf.predict(mean, cov)
    np.testing.assert_allclose(m_pred, m_ref, rtol=1e-12)
    np.testing.assert_allclose(P_pred, P_ref, rtol=1e-12)

    z = np.array([323.0, 238.5, 0.41, 121.0])
    H = np.eye(4, 8)
    hp = m_ref[3]  # measurement noise scales with the predicted height
    R = np.diag(np.square([WP * hp, WP * hp, 1e-1, WP * hp]))
    S = H @ P_ref @ H.T + R
    K = P_ref @ H.T @ np.linalg.inv(S)
    m_new_ref = m_ref + K @ (z - H @ m_ref)
    P_new_ref = P_ref - K @ S @ K.T  # DeepSORT's form; the core uses Joseph's, equal for the optimal gain
    zm, zc = kf.project(m_pred, P_pred)
    np.testing.assert_allclose(zm, H @ m_ref, rtol=1e-12)
    np.testing.assert_allclose(zc, S, rtol=1e-12)
    m_new, P_new = kf.update(m_pred, P_pred, z)
    np.testing.assert_allclose(m_new, m_new_ref, rtol=1e-10)
    np.testing.assert_allclose(P_new, P_new_ref, rtol=1e-8, atol=1e-12)


def test_xysr_one_step_matches_sort_equations():
    kf = KalmanFilterXYSR()
    R = np.diag([1.0, 1.0, 10.0, 10.0])
    P0 = np.diag([10.0, 10, 10, 10, 10000, 10000, 10000])
    Q = np.diag([1.0, 1, 1, 1, 0.01, 0.01, 0.0001])
    F = np.array(
        [
            [1, 0, 0, 0, 1, 0, 0],
            [0, 1, 0, 0, 0, 1, 0],
            [0, 0, 1, 0, 0, 0, 1],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
        ],
        dtype=float,
    )
    H = np.eye(4, 7)
    z0 = xyxy_to_xysr(np.array([10.0, 20.0, 50.0, 100.0]))
    np.testing.assert_allclose(z0, [30, 60, 3200, 0.5])
    mean, cov = kf.initiate(z0)
    np.testing.assert_allclose(mean, [30, 60, 3200, 0.5, 0, 0, 0])
    np.testing.assert_allclose(cov, P0)

    mean = mean + np.array([0, 0, 0, 0, 1.5, -2.0, 40.0])
    m_ref, P_ref = F @ mean, F @ cov @ F.T + Q
    m_pred, P_pred = kf.predict(mean, cov)
    np.testing.assert_allclose(m_pred, m_ref, rtol=1e-12)
    np.testing.assert_allclose(P_pred, P_ref, rtol=1e-12)

    z = np.array([32.0, 57.0, 3300.0, 0.52])
    S = H @ P_ref @ H.T + R
    K = P_ref @ H.T @ np.linalg.inv(S)
    m_new_ref = m_ref + K @ (z - H @ m_ref)
    P_new_ref = (np.eye(7) - K @ H) @ P_ref
    m_new, P_new = kf.update(m_pred, P_pred, z)
    np.testing.assert_allclose(m_new, m_new_ref, rtol=1e-10)
    np.testing.assert_allclose(P_new, P_new_ref, rtol=1e-7, atol=1e-9)


def test_xysr_area_velocity_is_clamped_like_sort():
    kf = KalmanFilterXYSR()
    mean, cov = kf.initiate(np.array([[50.0, 50.0, 100.0, 1.0], [50.0, 50.0, 100.0, 1.0]]))
    mean[:, 6] = [-150.0, -50.0]  # the first would drive the area to -50
    m, _ = kf.predict(mean, cov)
    np.testing.assert_allclose(m[:, 2], [100.0, 50.0])
    np.testing.assert_allclose(m[:, 6], [0.0, -50.0])
    assert mean[0, 6] == -150.0  # the caller's array is not modified


# ------------------------------------------------------------------------------------------- batch behaviour
@pytest.mark.parametrize("model", [KalmanFilterXYAH(), KalmanFilterXYSR()], ids=["xyah", "xysr"])
def test_multi_predict_and_batched_update_equal_per_track(model):
    rng = np.random.default_rng(0)
    mean, cov = _random_tracks(model, rng, 5)
    m_b, c_b = model.multi_predict(mean, cov)
    z = mean[:, :4] + rng.normal(0, 1, size=(5, 4))
    m_u, c_u = model.update(m_b, c_b, z)
    for k in range(5):
        m1, c1 = model.predict(mean[k], cov[k])
        np.testing.assert_allclose(m_b[k], m1, rtol=1e-12)
        np.testing.assert_allclose(c_b[k], c1, rtol=1e-12)
        m2, c2 = model.update(m1, c1, z[k])
        np.testing.assert_allclose(m_u[k], m2, rtol=1e-10)
        np.testing.assert_allclose(c_u[k], c2, rtol=1e-10, atol=1e-12)
        assert m1.shape == mean[k].shape and c1.shape == cov[k].shape


@pytest.mark.parametrize("model", [KalmanFilterXYAH(), KalmanFilterXYSR()], ids=["xyah", "xysr"])
def test_update_moves_toward_measurement_and_shrinks_covariance(model):
    rng = np.random.default_rng(1)
    mean, cov = _random_tracks(model, rng, 4)
    mean, cov = model.predict(mean, cov)
    z = mean[:, :4] + np.array([8.0, -6.0, 0.0, 0.0])
    new_mean, new_cov = model.update(mean, cov, z)
    before = np.linalg.norm(z[:, :2] - mean[:, :2], axis=1)
    after = np.linalg.norm(z[:, :2] - new_mean[:, :2], axis=1)
    assert (after < before).all() and (after > 0).all()
    # Moves along the innovation direction, not elsewhere.
    step = new_mean[:, :2] - mean[:, :2]
    assert (np.sum(step * (z[:, :2] - mean[:, :2]), axis=1) > 0).all()
    assert (np.trace(new_cov, axis1=1, axis2=2) < np.trace(cov, axis1=1, axis2=2)).all()
    np.testing.assert_allclose(new_cov, np.swapaxes(new_cov, 1, 2))
    assert (np.linalg.eigvalsh(new_cov) > 0).all()


@pytest.mark.parametrize("model", [KalmanFilterXYAH(), KalmanFilterXYSR()], ids=["xyah", "xysr"])
def test_gating_distance_is_mahalanobis(model):
    rng = np.random.default_rng(2)
    mean, cov = _random_tracks(model, rng, 3)
    zm, S = model.project(mean, cov)
    meas = zm[0] + rng.normal(0, 5, size=(6, 4))
    batched = model.gating_distance(mean, cov, meas)
    assert batched.shape == (3, 6)
    for k in range(3):
        d = meas - zm[k]
        ref = np.einsum("mi,ij,mj->m", d, np.linalg.inv(S[k]), d)
        np.testing.assert_allclose(model.gating_distance(mean[k], cov[k], meas), ref, rtol=1e-9)
        np.testing.assert_allclose(batched[k], ref, rtol=1e-9)
        d2 = d[:, :2]
        ref2 = np.einsum("mi,ij,mj->m", d2, np.linalg.inv(S[k][:2, :2]), d2)
        np.testing.assert_allclose(
            model.gating_distance(mean[k], cov[k], meas, only_position=True), ref2, rtol=1e-9
        )
        np.testing.assert_allclose(
            model.gating_distance(mean[k], cov[k], meas, metric="gaussian"), np.sum(d * d, axis=1), rtol=1e-12
        )
    assert model.gating_distance(mean, cov, np.zeros((0, 4))).shape == (3, 0)
    with pytest.raises(ValueError, match="metric"):
        model.gating_distance(mean, cov, meas, metric="cosine")


def test_chi2_table():
    for k, v in CHI2INV95.items():
        assert v == pytest.approx(chi2.ppf(0.95, k), abs=2e-3)


# -------------------------------------------------------------------------------------------- convergence
@pytest.mark.parametrize("which", ["xyah", "xysr"])
def test_constant_velocity_target_is_tracked(which):
    rng = np.random.default_rng(3)
    model = KalmanFilterXYAH() if which == "xyah" else KalmanFilterXYSR()
    to_z, to_box = (xyxy_to_xyah, xyah_to_xyxy) if which == "xyah" else (xyxy_to_xysr, xysr_to_xyxy)
    velocity = np.array([3.0, 1.5])
    sigma = 2.0

    def truth(t):
        cx, cy = np.array([100.0, 80.0]) + velocity * t
        return np.array([cx - 20, cy - 40, cx + 20, cy + 40])

    mean, cov = model.initiate(to_z(truth(0)))
    pred_err, meas_err = [], []
    for t in range(1, 80):
        mean, cov = model.predict(mean, cov)
        pred_err.append(np.abs(to_box(mean[:4]) - truth(t)).mean())
        meas = truth(t) + rng.normal(0, sigma, size=4)
        meas_err.append(np.abs(meas - truth(t)).mean())
        mean, cov = model.update(mean, cov, to_z(meas))
    pred_err = np.asarray(pred_err)
    # Early predictions lag (zero initial velocity); later ones beat the raw measurements.
    assert pred_err[:5].mean() > 2 * pred_err[-30:].mean()
    assert pred_err[-30:].mean() < np.mean(meas_err[-30:])
    np.testing.assert_allclose(mean[4:6], velocity, atol=0.5)


# ---------------------------------------------------------------------------------------- helpers and core
def test_conversions_round_trip_and_values():
    boxes = np.array([[10.0, 20.0, 50.0, 100.0], [0.0, 0.0, 3.0, 1.5]])
    np.testing.assert_allclose(xyxy_to_xyah(boxes)[0], [30, 60, 0.5, 80])
    np.testing.assert_allclose(xyxy_to_xysr(boxes)[0], [30, 60, 3200, 0.5])
    np.testing.assert_allclose(xyah_to_xyxy(xyxy_to_xyah(boxes)), boxes, rtol=1e-12)
    np.testing.assert_allclose(xysr_to_xyxy(xyxy_to_xysr(boxes)), boxes, rtol=1e-12, atol=1e-12)
    # SORT would return NaN for a non-positive area; we return a zero-size box at the centre.
    np.testing.assert_allclose(xysr_to_xyxy(np.array([5.0, 6.0, -10.0, 1.0])), [5, 6, 5, 6])


def test_core_with_shared_noise_and_bad_shapes():
    rng = np.random.default_rng(4)
    F = np.array([[1.0, 1.0], [0.0, 1.0]])
    kf = LinearKalman(F, np.array([[1.0, 0.0]]))
    mean = rng.normal(size=(3, 2))
    cov = np.stack([_spd(rng, 2) for _ in range(3)])
    Q, R = 0.1 * np.eye(2), np.array([[0.5]])
    m, c = kf.predict(mean, cov, Q)
    np.testing.assert_allclose(c[1], F @ cov[1] @ F.T + Q)
    m2, c2 = kf.update(m, c, np.ones((3, 1)), R)
    s = c[2][0, 0] + 0.5
    np.testing.assert_allclose(m2[2], m[2] + c[2][:, 0] / s * (1 - m[2][0]))
    with pytest.raises(ValueError, match="F must be"):
        LinearKalman(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="expected mean"):
        KalmanFilterXYAH().predict(np.zeros(7), np.eye(7))


@pytest.mark.parametrize("model", [KalmanFilterXYAH(), KalmanFilterXYSR()], ids=["xyah", "xysr"])
def test_zero_tracks(model):
    n = model.kf.dim_x
    mean, cov = model.initiate(np.zeros((0, 4)))
    assert mean.shape == (0, n) and cov.shape == (0, n, n)
    mean, cov = model.multi_predict(mean, cov)
    mean, cov = model.update(mean, cov, np.zeros((0, 4)))
    assert mean.shape == (0, n) and cov.shape == (0, n, n)
    assert model.gating_distance(mean, cov, np.ones((3, 4))).shape == (0, 3)
