"""Batched linear Kalman filtering — the zoo's one Kalman implementation — and the two box motion models.

:class:`LinearKalman` is the core: predict / project / update / Mahalanobis gating for a constant linear
system (transition ``F``, observation ``H``), vectorised over many tracks (means (K, n), covariances
(K, n, n); noise covariances (K, ·, ·) or shared). Two motion models sit on it:

- :class:`KalmanFilterXYAH` — DeepSORT / ByteTrack. State ``(cx, cy, a, h, vcx, vcy, va, vh)`` with
  aspect ``a = w / h``; process and measurement noise scale with the box height (std weights 1/20 for
  position, 1/160 for velocity).
- :class:`KalmanFilterXYSR` — SORT (Bewley et al. 2016). State ``(u, v, s, r, du, dv, ds)`` with area
  ``s = w * h`` and aspect ``r = w / h`` (assumed constant); constant noise matrices built from the identity
  exactly as SORT does (``R[2:, 2:] *= 10``, ``P[4:, 4:] *= 1000``, ``P *= 10``, ``Q[-1, -1] *= 0.01``,
  ``Q[4:, 4:] *= 0.01``).

Every model method accepts one track (mean (n,), cov (n, n)) or a batch (mean (K, n), cov (K, n, n)) and
returns the same layout. All arrays are float64 numpy; boxes are pixels, time unit is one frame (``dt``).

The covariance update uses the Joseph form ``(I - KH) P (I - KH)^T + K R K^T`` (as filterpy, which SORT
uses); for the optimal gain it equals DeepSORT's ``P - K S K^T`` and stays symmetric positive definite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = [
    "CHI2INV95",
    "KalmanFilterXYAH",
    "KalmanFilterXYSR",
    "LinearKalman",
    "xyah_to_xyxy",
    "xysr_to_xyxy",
    "xyxy_to_xyah",
    "xyxy_to_xysr",
]

#: 0.95 quantile of the chi-square distribution with k degrees of freedom (k = 1..9), the gating threshold
#: for a squared Mahalanobis distance in a k-dimensional measurement space (DeepSORT's table).
CHI2INV95: dict[int, float] = {
    1: 3.8415,
    2: 5.9915,
    3: 7.8147,
    4: 9.4877,
    5: 11.070,
    6: 12.592,
    7: 14.067,
    8: 15.507,
    9: 16.919,
}


# ----------------------------------------------------------------------------------------------- conversions
def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) ``xyxy`` -> (..., 4) ``(cx, cy, w / h, h)`` (DeepSORT / ByteTrack measurement)."""
    b = np.asarray(boxes, dtype=np.float64)
    w, h = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2, w / h, h], axis=-1)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    """(..., 4) ``(cx, cy, a, h)`` -> (..., 4) ``xyxy``; pass ``mean[..., :4]`` to convert a state."""
    s = np.asarray(xyah, dtype=np.float64)
    w, h = s[..., 2] * s[..., 3], s[..., 3]
    return np.stack([s[..., 0] - w / 2, s[..., 1] - h / 2, s[..., 0] + w / 2, s[..., 1] + h / 2], axis=-1)


def xyxy_to_xysr(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) ``xyxy`` -> (..., 4) ``(u, v, s = w * h, r = w / h)`` (SORT measurement)."""
    b = np.asarray(boxes, dtype=np.float64)
    w, h = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2, w * h, w / h], axis=-1)


def xysr_to_xyxy(xysr: np.ndarray) -> np.ndarray:
    """(..., 4) ``(u, v, s, r)`` -> (..., 4) ``xyxy``; pass ``mean[..., :4]`` to convert a state.

    A non-positive area or aspect gives a zero-size box at the centre (SORT would produce NaN).
    """
    s = np.asarray(xysr, dtype=np.float64)
    w = np.sqrt(np.clip(s[..., 2] * s[..., 3], 0.0, None))
    h = np.divide(s[..., 2], w, out=np.zeros_like(w), where=w > 0)
    return np.stack([s[..., 0] - w / 2, s[..., 1] - h / 2, s[..., 0] + w / 2, s[..., 1] + h / 2], axis=-1)


# ------------------------------------------------------------------------------------------------------ core
def _as_batch(mean: np.ndarray, cov: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Lift one track (n,), (n, n) to a batch of one; validate shapes."""
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    single = mean.ndim == 1
    if single:
        mean, cov = mean[None], cov[None]
    if mean.ndim != 2 or mean.shape[1] != n or cov.shape != (mean.shape[0], n, n):
        raise ValueError(
            f"expected mean (K, {n}) and covariance (K, {n}, {n}) (or one track), got "
            f"{np.shape(mean)} and {np.shape(cov)}"
        )
    return mean, cov, single


class LinearKalman:
    """Batched Kalman filter for ``x' = F x + w``, ``z = H x + v`` with ``w ~ N(0, Q)``, ``v ~ N(0, R)``.

    Args:
        F: (n, n) state transition.
        H: (m, n) observation matrix.

    All methods take means (K, n) and covariances (K, n, n); noise covariances may be (K, ·, ·) per track
    or one (·, ·) matrix shared by all tracks.
    """

    def __init__(self, F: np.ndarray, H: np.ndarray) -> None:
        self.F = np.asarray(F, dtype=np.float64)
        self.H = np.asarray(H, dtype=np.float64)
        n = self.F.shape[0]
        if self.F.shape != (n, n) or self.H.ndim != 2 or self.H.shape[1] != n:
            raise ValueError(f"F must be (n, n) and H (m, n); got {self.F.shape} and {self.H.shape}")

    @property
    def dim_x(self) -> int:
        return self.F.shape[0]

    @property
    def dim_z(self) -> int:
        return self.H.shape[0]

    def predict(self, mean: np.ndarray, cov: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Time update: ``x <- F x``, ``P <- F P F^T + Q``. Shapes (K, n), (K, n, n) in and out."""
        F = self.F
        new_mean = mean @ F.T
        new_cov = F @ cov @ F.T + Q
        return new_mean, new_cov

    def project(self, mean: np.ndarray, cov: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distribution of the next measurement: ``H x`` (K, m) and innovation covariance
        ``S = H P H^T + R`` (K, m, m)."""
        H = self.H
        return mean @ H.T, H @ cov @ H.T + R

    def update(
        self, mean: np.ndarray, cov: np.ndarray, z: np.ndarray, R: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Measurement update with z (K, m): returns the posterior mean (K, n) and covariance (K, n, n)."""
        H = self.H
        z_pred, S = self.project(mean, cov, R)
        # S and P are symmetric, so the gain's transpose is S^-1 (H P): one batched solve, no inverse.
        gain = np.swapaxes(np.linalg.solve(S, H @ cov), -1, -2)  # (K, n, m)
        innovation = np.asarray(z, dtype=np.float64) - z_pred
        new_mean = mean + np.einsum("knm,km->kn", gain, innovation)
        i_kh = np.eye(self.dim_x) - gain @ H
        R_b = np.broadcast_to(R, S.shape)
        new_cov = i_kh @ cov @ np.swapaxes(i_kh, -1, -2) + gain @ R_b @ np.swapaxes(gain, -1, -2)
        new_cov = (new_cov + np.swapaxes(new_cov, -1, -2)) / 2  # drop round-off asymmetry
        return new_mean, new_cov

    def squared_mahalanobis(
        self,
        mean: np.ndarray,
        cov: np.ndarray,
        z: np.ndarray,
        R: np.ndarray,
        dims: slice | None = None,
    ) -> np.ndarray:
        """Squared Mahalanobis distance of measurements z (M, m) to each track's predicted measurement.

        Args:
            dims: restrict to these measurement components (e.g. ``slice(0, 2)`` for position only).

        Returns:
            (K, M) squared distances ``d^T S^-1 d``.
        """
        z_pred, S = self.project(mean, cov, R)
        z = np.asarray(z, dtype=np.float64).reshape(-1, self.dim_z)
        if dims is not None:
            z_pred, S, z = z_pred[:, dims], S[:, dims, dims], z[:, dims]
        d = z[None, :, :] - z_pred[:, None, :]  # (K, M, m)
        if d.shape[1] == 0:
            return np.zeros((mean.shape[0], 0))
        L = np.linalg.cholesky(S)
        # ||L^-1 d||^2 = d^T S^-1 d; solving against the Cholesky factor is the stable route.
        y = np.linalg.solve(L, np.swapaxes(d, -1, -2))  # (K, m, M)
        return np.sum(y * y, axis=-2)


# ------------------------------------------------------------------------------------------ motion models
class _BoxModel(ABC):
    """Shared single/batch plumbing and gating for the box motion models."""

    kf: LinearKalman

    @abstractmethod
    def _Q(self, mean: np.ndarray) -> np.ndarray:
        """Process noise covariance for a batch of prior means (K, n): (K, n, n) or shared (n, n)."""

    @abstractmethod
    def _R(self, mean: np.ndarray) -> np.ndarray:
        """Measurement noise covariance for a batch of means (K, n): (K, m, m) or shared (m, m)."""

    def _before_predict(self, mean: np.ndarray) -> np.ndarray:
        return mean

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One time step for one track ((n,), (n, n)) or a batch ((K, n), (K, n, n))."""
        m, c, single = _as_batch(mean, cov, self.kf.dim_x)
        m = self._before_predict(m)
        m, c = self.kf.predict(m, c, self._Q(m))
        return (m[0], c[0]) if single else (m, c)

    def multi_predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`predict` of K tracks: mean (K, n), cov (K, n, n)."""
        m, c, _ = _as_batch(mean, cov, self.kf.dim_x)
        return self.predict(m, c)

    def project(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted measurement mean (·, 4) and innovation covariance (·, 4, 4)."""
        m, c, single = _as_batch(mean, cov, self.kf.dim_x)
        zm, zc = self.kf.project(m, c, self._R(m))
        return (zm[0], zc[0]) if single else (zm, zc)

    def update(
        self, mean: np.ndarray, cov: np.ndarray, measurement: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Correct with measurement(s) (4,) or (K, 4) in this model's measurement space."""
        m, c, single = _as_batch(mean, cov, self.kf.dim_x)
        z = np.asarray(measurement, dtype=np.float64).reshape(m.shape[0], self.kf.dim_z)
        m, c = self.kf.update(m, c, z, self._R(m))
        return (m[0], c[0]) if single else (m, c)

    def gating_distance(
        self,
        mean: np.ndarray,
        cov: np.ndarray,
        measurements: np.ndarray,
        only_position: bool = False,
        metric: str = "maha",
    ) -> np.ndarray:
        """Distance between track state(s) and measurements (M, 4) in measurement space.

        Args:
            only_position: use only the first two measurement components (box centre); compare with
                ``CHI2INV95[2]`` instead of ``CHI2INV95[4]``.
            metric: ``"maha"`` squared Mahalanobis distance, or ``"gaussian"`` squared Euclidean distance
                of the centres/components (ByteTrack's option).

        Returns:
            (M,) for one track, (K, M) for a batch.
        """
        m, c, single = _as_batch(mean, cov, self.kf.dim_x)
        dims = slice(0, 2) if only_position else None
        if metric == "maha":
            out = self.kf.squared_mahalanobis(m, c, measurements, self._R(m), dims)
        elif metric == "gaussian":
            z = np.asarray(measurements, dtype=np.float64).reshape(-1, self.kf.dim_z)
            zp = m @ self.kf.H.T
            if dims is not None:
                z, zp = z[:, dims], zp[:, dims]
            out = np.sum((z[None] - zp[:, None]) ** 2, axis=-1)
        else:
            raise ValueError(f"metric must be 'maha' or 'gaussian', got {metric!r}")
        return out[0] if single else out


class KalmanFilterXYAH(_BoxModel):
    """DeepSORT / ByteTrack box filter in ``(cx, cy, a, h)`` measurement space, 8-D constant velocity.

    Noise standard deviations are proportional to the box height ``h`` (from the state, before the step):
    process ``(wp h, wp h, 1e-2, wp h, wv h, wv h, 1e-5, wv h)``, measurement ``(wp h, wp h, 1e-1, wp h)``,
    initial ``(2 wp h, 2 wp h, 1e-2, 2 wp h, 10 wv h, 10 wv h, 1e-5, 10 wv h)`` with ``wp = 1/20``,
    ``wv = 1/160``. Convert boxes with :func:`xyxy_to_xyah` / :func:`xyah_to_xyxy`.
    """

    ndim = 4

    def __init__(
        self, dt: float = 1.0, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160
    ) -> None:
        F = np.eye(8)
        F[np.arange(4), np.arange(4) + 4] = dt
        self.kf = LinearKalman(F, np.eye(4, 8))
        self._std_weight_position = std_weight_position
        self._std_weight_velocity = std_weight_velocity

    @staticmethod
    def _diag(std: np.ndarray) -> np.ndarray:
        """(K, d) standard deviations -> (K, d, d) diagonal covariances."""
        out = np.zeros(std.shape + std.shape[-1:])
        idx = np.arange(std.shape[-1])
        out[:, idx, idx] = std**2
        return out

    def _stds(self, h: np.ndarray, pos: float, vel: float, aspect: float, aspect_vel: float) -> np.ndarray:
        wp, wv = self._std_weight_position, self._std_weight_velocity
        one = np.ones_like(h)
        return np.stack(
            [pos * wp * h, pos * wp * h, aspect * one, pos * wp * h,
             vel * wv * h, vel * wv * h, aspect_vel * one, vel * wv * h],
            axis=-1,
        )  # fmt: skip

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New track(s) from measurement(s) (4,) or (K, 4) ``(cx, cy, a, h)``; velocities start at 0."""
        z = np.asarray(measurement, dtype=np.float64)
        single = z.ndim == 1
        z = z.reshape(-1, 4)
        mean = np.concatenate([z, np.zeros_like(z)], axis=1)
        cov = self._diag(self._stds(z[:, 3], 2.0, 10.0, 1e-2, 1e-5))
        return (mean[0], cov[0]) if single else (mean, cov)

    def _Q(self, mean: np.ndarray) -> np.ndarray:
        return self._diag(self._stds(mean[:, 3], 1.0, 1.0, 1e-2, 1e-5))

    def _R(self, mean: np.ndarray) -> np.ndarray:
        h = mean[:, 3]
        wp = self._std_weight_position
        return self._diag(np.stack([wp * h, wp * h, np.full_like(h, 1e-1), wp * h], axis=-1))


class KalmanFilterXYSR(_BoxModel):
    """SORT box filter (Bewley et al. 2016) in ``(u, v, s, r)`` measurement space, 7-D state.

    ``s`` is the area and ``r = w / h`` the aspect, which has no velocity. Before each prediction the area
    velocity is zeroed where it would make the area non-positive (as SORT's ``KalmanBoxTracker.predict``).
    Convert boxes with :func:`xyxy_to_xysr` / :func:`xysr_to_xyxy`.
    """

    ndim = 4

    def __init__(self) -> None:
        F = np.eye(7)
        F[[0, 1, 2], [4, 5, 6]] = 1.0
        self.kf = LinearKalman(F, np.eye(4, 7))
        # SORT starts from filterpy's identity defaults and scales them in this order.
        R = np.eye(4)
        R[2:, 2:] *= 10.0
        P = np.eye(7)
        P[4:, 4:] *= 1000.0  # unobserved velocities: high initial uncertainty
        P *= 10.0
        Q = np.eye(7)
        Q[-1, -1] *= 0.01
        Q[4:, 4:] *= 0.01
        self.R0, self.P0, self.Q0 = R, P, Q

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New track(s) from measurement(s) (4,) or (K, 4) ``(u, v, s, r)``; velocities start at 0."""
        z = np.asarray(measurement, dtype=np.float64)
        single = z.ndim == 1
        z = z.reshape(-1, 4)
        mean = np.concatenate([z, np.zeros((z.shape[0], 3))], axis=1)
        cov = np.broadcast_to(self.P0, (z.shape[0], 7, 7)).copy()
        return (mean[0], cov[0]) if single else (mean, cov)

    def _before_predict(self, mean: np.ndarray) -> np.ndarray:
        bad = (mean[:, 6] + mean[:, 2]) <= 0
        if bad.any():
            mean = mean.copy()
            mean[bad, 6] = 0.0
        return mean

    def _Q(self, mean: np.ndarray) -> np.ndarray:
        return self.Q0

    def _R(self, mean: np.ndarray) -> np.ndarray:
        return self.R0
