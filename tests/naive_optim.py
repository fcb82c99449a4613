"""Naive reference for dynrnn.training.optim: plain loops over elements, no dynrnn import.

Every function copies its inputs and updates element by element, as written
in the papers: Algorithm 1 of Pascanu et al. (2013) for clipping, and
classical or simplified Nesterov momentum (Bengio, Boulanger-Lewandowski &
Pascanu 2012, eq. 7).
"""

import math

import numpy as np


def inverse_time(value, tau, t):
    """The 1/t schedule: value / (1 + t / tau)."""
    return value / (1.0 + t / tau)


def global_norm(grads):
    """L2 norm of all gradient entries, summed one by one."""
    total = 0.0
    for key in grads:
        for x in np.asarray(grads[key], dtype=np.float64).ravel():
            total += float(x) * float(x)
    return math.sqrt(total)


def clip_grad_norm(grads, threshold):
    """Algorithm 1: if norm >= threshold, g <- (threshold / norm) g.  Returns (grads, norm, clipped)."""
    norm = global_norm(grads)
    out = {key: np.array(g, dtype=np.float64) for key, g in grads.items()}
    clipped = threshold is not None and norm >= threshold
    if clipped:
        factor = threshold / norm
        for key in out:
            flat = out[key].reshape(-1)
            for i in range(flat.size):
                flat[i] = flat[i] * factor
    return out, norm, clipped


def sgd_step(params, grads, velocity, lr, momentum=0.0, nesterov=False, threshold=None):
    """One update with learning rate ``lr`` (a number); returns (params, velocity, norm, clipped)."""
    grads, norm, clipped = clip_grad_norm(grads, threshold)
    mu = momentum
    new_params, new_velocity = {}, {}
    for key in params:
        theta = np.array(params[key], dtype=np.float64).reshape(-1)
        v = np.array(velocity[key], dtype=np.float64).reshape(-1)
        g = grads[key].reshape(-1)
        theta_new = np.empty_like(theta)
        v_new = np.empty_like(v)
        for i in range(theta.size):
            v_new[i] = mu * v[i] - lr * g[i]
            if nesterov:
                # Theta_t = Theta_{t-1} + mu^2 v_{t-1} - (1 + mu) lr g(Theta_{t-1})
                theta_new[i] = theta[i] + (mu * mu) * v[i] - ((1.0 + mu) * lr) * g[i]
            else:
                theta_new[i] = theta[i] + v_new[i]
        shape = np.shape(params[key])
        new_params[key] = theta_new.reshape(shape)
        new_velocity[key] = v_new.reshape(shape)
    return new_params, new_velocity, norm, clipped


def nesterov_lookahead(grad, theta0, lrs, momentum):
    """Classical Nesterov momentum with the look-ahead gradient (Sutskever et al. 2013).

    ``v_{t+1} = mu v_t - lr_t grad(theta_t + mu v_t)``, ``theta_{t+1} = theta_t + v_{t+1}``,
    with ``v_0 = 0``.  Returns the lists of theta_t and v_t for t = 0 .. len(lrs).
    """
    theta = np.array(theta0, dtype=np.float64)
    v = np.zeros_like(theta)
    thetas, vs = [theta.copy()], [v.copy()]
    for lr in lrs:
        g = grad(theta + momentum * v)
        v = momentum * v - lr * g
        theta = theta + v
        thetas.append(theta.copy())
        vs.append(v.copy())
    return thetas, vs
