"""Pseudo-arclength continuation of the zero set of ``H: R^N -> R^(N-1)``, with event location.

Private engine of `dynrnn.continuation` and `dynrnn.fold_continuation`.  A
*system* provides

- ``evaluate(y) -> (H, DH)``: the residual (N - 1,) and its Jacobian (N - 1, N);
- ``point_info(y) -> (multipliers, signs)``: the multipliers of the fixed
  point and a dict ``kind -> sign`` of the test functions (-1, 0 or +1);
- ``classify(kind, y, multipliers, t_lo, t_hi) -> kind or None``: the name
  of a located event, or None to drop it;
- ``accept(y) -> y``: a hook run on every accepted point (may rescale it).

The predictor steps along the unit tangent ``t`` (the null vector of ``DH``);
the corrector is Newton's method on the bordered system ``[H(y); <t, y - y_k> - s]``
(Keller's pseudo-arclength condition), whose Jacobian ``[DH; t^T]`` stays
regular at folds, where the branch turns back in the parameter.  Events and
the end of the branch are located by bisection along the segment between two
accepted points, each trial point corrected onto the branch.
"""

import numpy as np

COS_MIN = 0.9  # smallest cosine between consecutive tangents (about 26 degrees)
GROW, SHRINK = 1.5, 0.5  # step-size factors after an easy step / a failure


class Settings:
    """Step and tolerance settings of a trace (validated by the caller)."""

    def __init__(self, step, min_step, max_step, max_steps, tol, max_iter, event_tol):
        self.step, self.min_step, self.max_step = step, min_step, max_step
        self.max_steps, self.tol, self.max_iter, self.event_tol = max_steps, tol, max_iter, event_tol


def _solve(A, r):
    """``A^-1 r``; the least-squares solution where ``A`` is exactly singular (e.g. at a branch point)."""
    if not np.all(np.isfinite(A)):
        return None
    try:
        dy = np.linalg.solve(A, r)
    except np.linalg.LinAlgError:
        dy = np.linalg.lstsq(A, r, rcond=None)[0]
    return dy if np.all(np.isfinite(dy)) else None


def newton(system, y, border, target, settings):
    """Newton on ``[H(y); <border, y> - target] = 0``; returns ``(y, iterations)`` or ``(None, iterations)``."""
    y = np.array(y, dtype=np.float64)
    for it in range(1, settings.max_iter + 1):
        H, DH = system.evaluate(y)
        if not np.all(np.isfinite(H)):
            return None, it
        r = np.append(H, border @ y - target)
        dy = _solve(np.vstack([DH, border]), -r)
        if dy is None:
            return None, it
        y = y + dy
        if np.max(np.abs(dy)) <= settings.tol * (1.0 + np.max(np.abs(y))):
            H, _ = system.evaluate(y)
            if np.all(np.isfinite(H)) and np.max(np.abs(H)) <= max(settings.tol, 1e-13):
                return y, it
            return None, it
    return None, settings.max_iter


def fix_coordinate(system, y, index, value, settings):
    """Correct ``y`` onto the zero set with coordinate ``index`` held at ``value``."""
    y = np.array(y, dtype=np.float64)
    y[index] = value
    border = np.zeros(y.size)
    border[index] = 1.0
    return newton(system, y, border, value, settings)[0]


def tangent(system, y, reference=None):
    """Unit tangent at ``y``: the null vector of ``DH``, oriented along ``reference`` when given."""
    _, DH = system.evaluate(y)
    if reference is not None:
        e = np.zeros(y.size)
        e[-1] = 1.0
        z = _solve(np.vstack([DH, reference]), e)  # <reference, z> = 1 > 0: same orientation
        if z is not None:
            return z / np.linalg.norm(z)
    try:
        z = np.linalg.svd(DH)[2][-1]
    except np.linalg.LinAlgError:
        return None
    if reference is not None and z @ reference < 0:
        z = -z
    return z


class _Segment:
    """The branch between accepted ``y0`` (tangent ``t0``) and ``y1``, parametrised by ``s = <t0, y - y0>``."""

    def __init__(self, system, settings, y0, t0, y1):
        self.system, self.settings = system, settings
        self.y0, self.t0 = y0, t0
        self.known = [(0.0, y0), (float(t0 @ (y1 - y0)), y1)]

    def point(self, s):
        """The branch point at ``s``, corrected from the interpolation between the nearest known points."""
        lo = max((k for k in self.known if k[0] <= s), key=lambda k: k[0], default=self.known[0])
        hi = min((k for k in self.known if k[0] >= s), key=lambda k: k[0], default=self.known[1])
        guess = lo[1] if hi[0] == lo[0] else lo[1] + (s - lo[0]) / (hi[0] - lo[0]) * (hi[1] - lo[1])
        y = newton(self.system, guess, self.t0, s + self.t0 @ self.y0, self.settings)[0]
        if y is not None:
            self.known.append((s, y))
        return y

    def bisect(self, sign, s_hi=None):
        """Locate where ``sign(y)`` changes between ``s = 0`` and ``s_hi``; returns ``(y, s, located)``."""
        lo, hi = 0.0, self.known[1][0] if s_hi is None else s_hi
        sign_lo = sign(self.y0)
        y_best, located = None, True
        while hi - lo > self.settings.event_tol:
            mid = 0.5 * (lo + hi)
            y = self.point(mid)
            if y is None:
                located = False
                break
            y_best = y
            if sign(y) == sign_lo:
                lo = mid
            else:
                hi = mid
        s = 0.5 * (lo + hi)
        y = self.point(s) if located else None
        if y is None:
            located = False
            y = y_best if y_best is not None else self.known[1][1]
        return y, s, located


def _end_value(y, constraints):
    """``min_c sense * (value - y[index])``: positive inside the box, <= 0 on or past its edge."""
    return min(sense * (value - y[index]) for index, value, sense in constraints)


def _distance_to_chord(p, a, b):
    d = b - a
    lam = np.clip((p - a) @ d / max(d @ d, 1e-300), 0.0, 1.0)
    return float(np.linalg.norm(a + lam * d - p))


def trace(system, y0, t0, settings, constraints, end_status):
    """Follow the branch from ``y0`` along ``t0`` until a constraint, a closed loop, ``max_steps`` or a failure.

    ``constraints``: ``(index, value, sense)`` triples; the branch ends where
    ``sense * (value - y[index])`` reaches 0 (status ``end_status``), and
    that end point is corrected with the coordinate held exactly at ``value``.

    Returns ``(points, multipliers, arclength, events, status, n_steps)``;
    each event is ``(kind, y, multipliers, segment index, located)``.
    """
    mult0, signs = system.point_info(y0)
    points, mults, arclength, events = [y0], [mult0], [0.0], []
    y, t, h = y0, t0, settings.step
    far = 0.0  # farthest distance from y0 so far: a closed loop must first leave
    status, n_steps = "max_steps", 0
    while n_steps < settings.max_steps:
        y_new, iterations = newton(system, y + h * t, t, h + t @ y, settings)
        t_new = None if y_new is None else tangent(system, y_new, t)
        if (
            y_new is None
            or t_new is None
            or t_new @ t < COS_MIN
            or np.linalg.norm(y_new - (y + h * t)) > h  # the corrector jumped
        ):
            h *= SHRINK
            if h < settings.min_step:
                status = "step_size"
                break
            continue
        n_steps += 1
        segment = _Segment(system, settings, y, t, y_new)
        ended = None
        if constraints and _end_value(y_new, constraints) <= 0.0:
            y_end, s_end, _ = segment.bisect(lambda q: np.sign(_end_value(q, constraints)))
            index, value, _ = min(constraints, key=lambda c: c[2] * (c[1] - y_end[c[0]]))
            y_fixed = fix_coordinate(system, y_end, index, value, settings)
            y_new = y_end if y_fixed is None else y_fixed
            segment = _Segment(system, settings, y, t, y_new)
            t_new = tangent(system, y_new, t)
            ended = end_status
        far = max(far, float(np.linalg.norm(y_new - y0)))
        if n_steps > 2 and far > 4 * h and t @ t0 > COS_MIN and _distance_to_chord(y0, y, y_new) < 0.25 * h:
            y_new, t_new, ended = y0.copy(), t0, "closed"
            segment = _Segment(system, settings, y, t, y_new)
        mult_new, signs_new = system.point_info(y_new)
        signs_new = {kind: sign or signs[kind] for kind, sign in signs_new.items()}  # 0: keep the last sign
        found = []
        for kind, sign_new in signs_new.items():
            if signs[kind] * sign_new < 0:
                y_event, s_event, located = segment.bisect(lambda q, kind=kind: system.point_info(q)[1][kind])
                mult_event = system.point_info(y_event)[0]
                name = system.classify(kind, y_event, mult_event, t, t_new)
                if name is not None:
                    found.append((s_event, (name, y_event, mult_event, len(points) - 1, located)))
        events.extend(e for _, e in sorted(found, key=lambda f: f[0]))
        arclength.append(arclength[-1] + float(np.linalg.norm(y_new - y)))
        y_new = system.accept(y_new)
        if ended != "closed":
            t_new = tangent(system, y_new, t_new)
        points.append(y_new)
        mults.append(mult_new)
        y, t, signs = y_new, t_new, signs_new
        if ended is not None:
            status = ended
            break
        if iterations <= 3:
            h = min(h * GROW, settings.max_step)
    return points, mults, arclength, events, status, n_steps
