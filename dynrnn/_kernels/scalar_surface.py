"""Backend-neutral math of the eq. (8) error surface (Pascanu et al. 2013, Sec. 2.3, Fig. 6).

Plain Python in the Numba subset, like ``scalar.py`` (split from it by
topic); ``cpu.py`` and ``cuda.py`` compile it.
"""

import math


# ---------------------------------------------------------------------------
# One unit, x_t = w sigma(x_{t-1}) + b, E = (sigma(x_T) - target)^2: the
# state with its first and second derivatives in (w, b), in forward mode.
# ---------------------------------------------------------------------------
def make_sigma_derivatives(sigma_dsigma, second):
    """Return ``sigma_d2(z) -> (sigma(z), sigma'(z), sigma''(z))`` from the activation table.

    ``sigma_dsigma`` is the backend's compiled activation
    (``scalar.make_activation``) and ``second`` the compiled
    ``scalar.make_second_derivative`` of the same name: logistic
    ``sigma' (1 - 2 sigma)``, tanh ``-2 sigma sigma'``, relu and linear 0
    (relu takes ``sigma'(0) = 0``).  NaN gives NaN in all three.
    """

    def sigma_d2(z):
        s, s1 = sigma_dsigma(z)
        return s, s1, second(s, s1)

    return sigma_d2


def make_unit_surface_step(sigma_d2):
    """Return the eq. (8) step carrying the first and second derivatives of ``x`` in ``(w, b)``.

    ``surface_step(x, x_w, x_b, x_ww, x_wb, x_bb, w, b)`` returns the same six
    quantities one step later.  With ``s, s1, s2 = sigma, sigma', sigma''``
    at ``x`` (forward-mode chain rule, second order)::

        x'    = w s + b
        x_w'  = s + w s1 x_w
        x_b'  = 1 + w s1 x_b
        x_ww' = 2 s1 x_w + w s2 x_w^2 + w s1 x_ww
        x_wb' = s1 x_b + w s2 x_w x_b + w s1 x_wb
        x_bb' = w s2 x_b^2 + w s1 x_bb
    """

    def surface_step(x, x_w, x_b, x_ww, x_wb, x_bb, w, b):
        s, s1, s2 = sigma_d2(x)
        ws1 = w * s1
        ws2 = w * s2
        return (
            w * s + b,
            s + ws1 * x_w,
            1.0 + ws1 * x_b,
            2.0 * s1 * x_w + ws2 * x_w * x_w + ws1 * x_ww,
            s1 * x_b + ws2 * x_w * x_b + ws1 * x_wb,
            ws2 * x_b * x_b + ws1 * x_bb,
        )

    return surface_step


def make_unit_surface_loss(sigma_d2):
    """Return ``surface_loss(x, x_w, x_b, x_ww, x_wb, x_bb, target) -> (E, dE_dw, dE_db, lambda_max)``.

    ``E = (sigma(x_T) - target)^2`` and its gradient and Hessian in ``(w, b)``
    by the chain rule from the derivatives of ``x_T``::

        E_x  = 2 (y - target) sigma'(x_T),  E_xx = 2 sigma'(x_T)^2 + 2 (y - target) sigma''(x_T)
        dE/dw = E_x x_w,  H_ww = E_xx x_w^2 + E_x x_ww   (likewise wb, bb)

    ``lambda_max`` is the larger eigenvalue of the symmetric 2x2 Hessian,
    ``(H_ww + H_bb)/2 + hypot((H_ww - H_bb)/2, H_wb)``, halved before adding
    so that finite entries give a finite result.
    """

    def surface_loss(x, x_w, x_b, x_ww, x_wb, x_bb, target):
        y, y1, y2 = sigma_d2(x)
        r = y - target
        e_x = 2.0 * r * y1
        e_xx = 2.0 * (y1 * y1 + r * y2)
        h_ww = e_xx * x_w * x_w + e_x * x_ww
        h_wb = e_xx * x_w * x_b + e_x * x_wb
        h_bb = e_xx * x_b * x_b + e_x * x_bb
        lam = (0.5 * h_ww + 0.5 * h_bb) + math.hypot(0.5 * h_ww - 0.5 * h_bb, h_wb)
        return r * r, e_x * x_w, e_x * x_b, lam

    return surface_loss
