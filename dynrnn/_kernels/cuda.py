"""CUDA builds of the scalar math: device functions, grid-stride kernels and
host launchers.

Imported only for ``backend="cuda"`` (through ``dynrnn._backend``), never by
``import dynrnn``.  Launchers take the same host arrays as ``cpu.py`` and fill
``out`` in place, doing their own transfers.  Kernels carry no signatures:
each compiles on its first launch.  CUDA keeps ``fastmath=False``; there it
is all-or-nothing and would also flush denormals and approximate division.
"""

import contextlib
import functools
import math
import warnings

import numpy as np
from numba import cuda

from .. import _config
from ..cells import gru, lstm, rnn
from . import scalar, scalar_surface

_device = cuda.jit(device=True)


@functools.cache
def activation(name):
    """Device ``(sigma, dsigma, sigma_dsigma)`` for ``name``, using libdevice exp."""
    return tuple(_device(f) for f in scalar.make_activation(name, math.exp))


@functools.cache
def cell(name):
    """The RNN cell (``cells/rnn.py``) compiled for ``name`` as device functions: a ``rnn.Compiled``."""
    return rnn.build(_device, *activation(name))


@functools.cache
def gated_cell(name):
    """The gated cell ``name`` ("gru", "lstm") as device functions, with libdevice's logistic and tanh.

    The same code as `cpu.gated_cell`; no kernel runs it yet (the gated analyses are CPU only), and
    ``tests/test_gated.py`` checks it against the CPU build on the simulator.
    """
    module = {"gru": gru, "lstm": lstm}[name]
    return module.build(_device, activation("logistic")[0], activation("tanh")[0])


@contextlib.contextmanager
def _quiet():
    """Silence NumPy's float warnings during a launch.

    The CUDA simulator runs kernels as Python on NumPy scalars, in threads of
    its own, and those warn on overflow where the hardware (and the CPU
    kernels) silently produce inf, reported as divergence.  ``np.errstate``
    is per thread, so the warnings are filtered instead (process-wide, for
    the duration of the launch only).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _launch_config(n_items):
    tpb = _config.THREADS_PER_BLOCK  # read at call time, so tests can patch it
    return max(1, -(-n_items // tpb)), tpb


@functools.cache
def _orbit_kernel(name):
    orbit = _device(scalar.make_orbit(cell(name).state_step))

    @cuda.jit
    def kernel(W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, work, out, diverged_at):
        for g in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
            diverged_at[g] = orbit(
                W_rec[g * (W_rec.shape[0] > 1)],
                W_in,
                b[g * (b.shape[0] > 1)],
                alpha[g * (alpha.shape[0] > 1)],
                x0[g * (x0.shape[0] > 1)],
                inputs,
                n_steps,
                paper,
                leaky,
                driven,
                work[g],
                out[g],
            )

    return kernel


def iterate_grid(name, W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, out, diverged_at):
    """Iterate G orbits of an n-unit map on the GPU.

    Same arguments as ``cpu.iterate_grid``; copies inputs to the device and
    the results back into ``out`` and ``diverged_at``.
    """
    G, _, n = out.shape
    blocks, tpb = _launch_config(G)
    work = cuda.device_array((G, 3, n), dtype=out.dtype)
    d_out = cuda.device_array_like(out)
    d_diverged_at = cuda.device_array_like(diverged_at)
    with _quiet():
        _orbit_kernel(name)[blocks, tpb](
            cuda.to_device(W_rec),
            cuda.to_device(W_in),
            cuda.to_device(b),
            cuda.to_device(alpha),
            cuda.to_device(x0),
            cuda.to_device(inputs),
            n_steps,
            paper,
            leaky,
            driven,
            work,
            d_out,
            d_diverged_at,
        )
    d_out.copy_to_host(out)
    d_diverged_at.copy_to_host(diverged_at)


def iterate_grid_unit(name, w, b, alpha, x0, n_steps, paper, leaky, out, diverged_at):
    """Iterate G single-unit maps on the GPU (the n-unit kernel with n = 1).

    Same arguments as ``cpu.iterate_grid_unit``.
    """
    G = x0.shape[0]
    dtype = out.dtype
    out3 = np.empty((G, out.shape[1], 1), dtype=dtype)
    iterate_grid(
        name,
        w.reshape(G, 1, 1),
        np.zeros((1, 1), dtype),
        b.reshape(G, 1),
        alpha.reshape(G, 1),
        x0.reshape(G, 1),
        np.zeros((n_steps, 1), dtype),
        n_steps,
        paper,
        leaky,
        False,
        out3,
        diverged_at,
    )
    out[...] = out3[:, :, 0]


@functools.cache
def _tangent_kernel(name):
    step = cell(name).unit_tangent_step

    @cuda.jit
    def kernel(w, b, x0, n_steps, x, dx_dw, dx_db):
        for g in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
            xg, dw, db = x0[g], 0.0, 0.0
            for _ in range(n_steps):
                xg, dw, db = step(xg, dw, db, w[g], b[g])
            x[g], dx_dw[g], dx_db[g] = xg, dw, db

    return kernel


def iterate_tangents(name, w, b, x0, n_steps, x, dx_dw, dx_db):
    """GPU version of ``cpu.iterate_tangents``; same arguments."""
    blocks, tpb = _launch_config(x.shape[0])
    d_x, d_dw, d_db = (cuda.device_array_like(a) for a in (x, dx_dw, dx_db))
    with _quiet():
        _tangent_kernel(name)[blocks, tpb](
            cuda.to_device(w), cuda.to_device(b), cuda.to_device(x0), n_steps, d_x, d_dw, d_db
        )
    d_x.copy_to_host(x)
    d_dw.copy_to_host(dx_dw)
    d_db.copy_to_host(dx_db)


@functools.cache
def _fixed_point_kernel(name):
    residual = _device(scalar.make_fixed_point_residual(cell(name).state_step, cell(name).step_jacobian))
    newton = _device(scalar.make_fixed_point_newton(residual, _device(scalar.lu_solve)))

    @cuda.jit
    def kernel(W_rec, b, x0, paper, tol, max_iter, work, x, status, n_iter, residual_norm):
        for g in range(cuda.grid(1), x0.shape[0], cuda.gridsize(1)):
            status[g], n_iter[g], residual_norm[g] = newton(W_rec, b, x0[g], paper, tol, max_iter, work[g], x[g])

    return kernel


def fixed_points(name, W_rec, b, x0, paper, tol, max_iter, x, status, n_iter, residual_norm):
    """GPU version of ``cpu.fixed_points``; same arguments, one thread per start."""
    S, n = x0.shape
    blocks, tpb = _launch_config(S)
    work = cuda.device_array((S, n + 6, n), dtype=x.dtype)
    outs = (x, status, n_iter, residual_norm)
    d_outs = [cuda.device_array_like(a) for a in outs]
    with _quiet():
        _fixed_point_kernel(name)[blocks, tpb](
            cuda.to_device(W_rec), cuda.to_device(b), cuda.to_device(x0), paper, tol, max_iter, work, *d_outs
        )
    for d_a, a in zip(d_outs, outs, strict=True):
        d_a.copy_to_host(a)


# ---------------------------------------------------------------------------
# --- error surface (eq. 8) ---
# ---------------------------------------------------------------------------
@functools.cache
def _surface_kernel(name):
    second = _device(scalar.make_second_derivative(name))
    sigma_d2 = _device(scalar_surface.make_sigma_derivatives(activation(name)[2], second))
    step = _device(scalar_surface.make_unit_surface_step(sigma_d2))
    loss = _device(scalar_surface.make_unit_surface_loss(sigma_d2))

    @cuda.jit
    def kernel(w, b, x0, target, n_steps, E, dE_dw, dE_db, lam, x):
        for g in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
            xg, x_w, x_b, x_ww, x_wb, x_bb = x0[g], 0.0, 0.0, 0.0, 0.0, 0.0
            for _ in range(n_steps):
                xg, x_w, x_b, x_ww, x_wb, x_bb = step(xg, x_w, x_b, x_ww, x_wb, x_bb, w[g], b[g])
            E[g], dE_dw[g], dE_db[g], lam[g] = loss(xg, x_w, x_b, x_ww, x_wb, x_bb, target)
            x[g] = xg

    return kernel


def error_surface(name, w, b, x0, target, n_steps, E, dE_dw, dE_db, hessian_max_eig, x):
    """GPU version of ``cpu.error_surface``; same arguments, one thread per grid point."""
    blocks, tpb = _launch_config(x.shape[0])
    outs = (E, dE_dw, dE_db, hessian_max_eig, x)
    d_outs = [cuda.device_array_like(a) for a in outs]
    with _quiet():
        _surface_kernel(name)[blocks, tpb](
            cuda.to_device(w), cuda.to_device(b), cuda.to_device(x0), target, n_steps, *d_outs
        )
    for d_a, a in zip(d_outs, outs, strict=True):
        d_a.copy_to_host(a)
