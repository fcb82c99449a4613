"""dynrnn.train and its fused update (issue 5, items 3 and 6).

The fused update is checked against a plain-loop reference (tests/naive_train.py:
explicit BPTT, Omega with its gradient by central differences, Algorithm 1,
SGD) and, to rounding, against the chain of public functions it fuses
(bptt, vanishing_regularizer, SGD.step).  train() is checked for
determinism, exact resume, Ctrl-C, divergence handling and bad input.
"""

import dataclasses

import naive_train
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from interrupts import interrupt_after_checkpoint

import dynrnn
from dynrnn._kernels import train as kernels
from dynrnn._kernels.scalar_bptt import LOSS_CODES
from dynrnn.gradients.regularizer import vanishing_regularizer
from dynrnn.results.training import read_npz
from dynrnn.training.model import error_rate, task_outputs
from dynrnn.training.optim import SGD
from dynrnn.training.train import CHECKPOINT_FORMAT, _dense_targets, train

KEYS = ("W_rec", "W_in", "b", "W_out", "b_out")
TINY = {"n_units": 6, "batch_size": 5, "eval_every": 10, "n_check": 50, "n_eval": 100}


def _problem(task, length, n_units, batch_size, init, seed):
    rng = np.random.default_rng(seed)
    batch = dynrnn.tasks.get_task(task)(batch_size, length, rng=rng)
    net = dynrnn.init_network(init, n_units, batch.n_inputs, batch.n_outputs, rng=rng)
    every = batch.at == "every"
    scale = 1.0 / (batch_size * batch.inputs.shape[0]) if every else 1.0 / batch_size
    return batch, net, every, scale


def _fused(net, batch, every, scale, hyper, params=None, velocity=None):
    params = tuple(np.array(getattr(net, k)) for k in KEYS) if params is None else params
    velocity = tuple(np.zeros_like(p) for p in params) if velocity is None else velocity
    stats = np.zeros(kernels.N_STATS)
    U = np.ascontiguousarray(batch.inputs)
    kernels.train_step(net.activation, params, velocity, U, _dense_targets(batch), LOSS_CODES[batch.loss], every,
                       scale, hyper, kernels.Scratch(net.n_units, net.dtype), stats, leak=net.leak)  # fmt: skip
    return dict(zip(KEYS, params, strict=True)), dict(zip(KEYS, velocity, strict=True)), stats


TASK_CASES = [("temporal_order", 12), ("addition", 10), ("memorization", 3), ("permutation", 8)]


@pytest.mark.parametrize("task, length", TASK_CASES)
@pytest.mark.parametrize("omega_kind, reduce", [("squared", "mean"), ("ratio", "sum")])
def test_fused_update_matches_naive_loops(task, length, omega_kind, reduce):
    batch, net, every, scale = _problem(task, length, 5, 3, "basic_tanh", 7)
    lr, mu, threshold, alpha = 0.3, 0.5, 0.05, 2.0
    hyper = (lr, mu, True, threshold, alpha, omega_kind == "ratio", reduce == "mean", 1e-20, kernels.SHRINK)
    params = {k: np.array(getattr(net, k)) for k in KEYS}
    velocity = {k: 0.01 * np.ones_like(v) for k, v in params.items()}
    new, vel, stats = _fused(net, batch, every, scale, hyper, velocity=tuple(velocity[k].copy() for k in KEYS))
    ref_p, ref_v, loss, norm, omega = naive_train.train_step(
        params, velocity, net.activation, batch.inputs, _dense_targets(batch), batch.loss, every, scale,
        lr=lr, momentum=mu, nesterov=True, threshold=threshold, alpha=alpha, omega_kind=omega_kind, reduce=reduce,
    )  # fmt: skip
    assert stats[kernels.LOSS] == pytest.approx(loss, rel=1e-12)
    assert stats[kernels.OMEGA] == pytest.approx(omega, rel=1e-10)
    assert stats[kernels.NORM] == pytest.approx(norm, rel=1e-7)
    assert stats[kernels.CLIPPED] == 1.0 and stats[kernels.UPDATED] == 1.0
    for k in KEYS:
        np.testing.assert_allclose(new[k], ref_p[k], rtol=1e-7, atol=1e-10, err_msg=k)
        np.testing.assert_allclose(vel[k], ref_v[k], rtol=1e-7, atol=1e-10, err_msg=k)


@given(
    seed=st.integers(0, 2**31),
    n_units=st.integers(1, 9),
    batch_size=st.integers(1, 6),
    case=st.sampled_from(TASK_CASES),
    alpha=st.sampled_from([0.0, 0.5, 4.0]),
    threshold=st.sampled_from([np.inf, 1e-3, 1.0]),
    momentum=st.sampled_from([0.0, 0.9]),
)
def test_fused_update_equals_the_public_functions_chained(seed, n_units, batch_size, case, alpha, threshold, momentum):
    """One fused call == bptt, then vanishing_regularizer, then SGD.step (to rounding)."""
    task, length = case
    batch, net, every, scale = _problem(task, length, n_units, batch_size, "smart_tanh", seed)
    lr = 0.1
    hyper = (lr, momentum, False, threshold, alpha, False, True, 1e-20, kernels.SHRINK)
    new, _, stats = _fused(net, batch, every, scale, hyper)
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)
    f = 1.0 / batch.inputs.shape[0] if every else 1.0  # memorization: the time mean
    grads = {k: np.asarray(v) * f for k, v in res.grads.items() if k in KEYS}
    reg = vanishing_regularizer(net, dataclasses.replace(res, dloss_dx=np.asarray(res.dloss_dx) * f), batch.inputs)
    grads["W_rec"] = grads["W_rec"] + alpha * reg.grad_W_rec
    opt = SGD(lr=lr, momentum=momentum, threshold=None if np.isinf(threshold) else threshold, nonfinite="shrink")
    params = {k: np.array(getattr(net, k)) for k in KEYS}
    ref, _, info = opt.step(params, grads, opt.init(params), 0)
    assert stats[kernels.LOSS] == pytest.approx(res.loss * f, rel=1e-12)
    assert stats[kernels.OMEGA] == pytest.approx(reg.omega, rel=1e-9, abs=1e-15)
    assert stats[kernels.N_VALID] == reg.n_valid
    assert stats[kernels.NORM] == pytest.approx(info.grad_norm, rel=1e-12)
    assert bool(stats[kernels.CLIPPED]) == info.clipped
    for k in KEYS:
        np.testing.assert_allclose(new[k], ref[k], rtol=1e-12, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("task, length", [("temporal_order", 10), ("memorization", 3), ("addition", 10)])
@pytest.mark.parametrize("leak", [0.35, "per unit"])
def test_leaky_update_equals_the_public_functions_chained(task, length, leak):
    """Leaky units (Bengio et al. 2012): one fused update == bptt (leak), vanishing_regularizer, SGD.step, to 1e-12.

    With a leak, the error carried back one step is ``leak g + W_rec^T ((1 - leak) sigma' g)`` and Omega's ratio
    reads that whole ``J^T g``, ``J = diag(leak) + diag(1 - leak) diag(sigma') W_rec``."""
    batch, drawn, every, scale = _problem(task, length, 5, 3, "basic_tanh", 11)
    leak = np.linspace(0.05, 0.9, 5) if leak == "per unit" else leak
    net = dynrnn.RNN(**{k: getattr(drawn, k) for k in KEYS}, activation="tanh", form="standard", leak=leak)
    lr, mu, threshold, alpha = 0.2, 0.5, 0.05, 2.0
    hyper = (lr, mu, False, threshold, alpha, False, True, 1e-20, kernels.SHRINK)
    new, _, stats = _fused(net, batch, every, scale, hyper)
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)
    f = 1.0 / batch.inputs.shape[0] if every else 1.0
    grads = {k: np.asarray(v) * f for k, v in res.grads.items() if k in KEYS}
    reg = vanishing_regularizer(net, dataclasses.replace(res, dloss_dx=np.asarray(res.dloss_dx) * f), batch.inputs)
    grads["W_rec"] = grads["W_rec"] + alpha * reg.grad_W_rec
    opt = SGD(lr=lr, momentum=mu, threshold=threshold, nonfinite="shrink")
    params = {k: np.array(getattr(net, k)) for k in KEYS}
    ref, _, info = opt.step(params, grads, opt.init(params), 0)
    assert stats[kernels.LOSS] == pytest.approx(res.loss * f, rel=1e-12)
    assert stats[kernels.OMEGA] == pytest.approx(reg.omega, rel=1e-12, abs=1e-15) and reg.omega > 0
    assert stats[kernels.N_VALID] == reg.n_valid
    assert stats[kernels.NORM] == pytest.approx(info.grad_norm, rel=1e-12)
    assert bool(stats[kernels.CLIPPED]) == info.clipped
    for k in KEYS:
        np.testing.assert_allclose(new[k], ref[k], rtol=1e-12, atol=1e-15, err_msg=k)
    # The leak changes the update (it is not silently dropped) ...
    plain = dynrnn.RNN(**{k: getattr(drawn, k) for k in KEYS}, activation="tanh", form="standard")
    assert not np.allclose(_fused(plain, batch, every, scale, hyper)[0]["W_rec"], new["W_rec"], rtol=1e-6, atol=0)
    # ... and the task model's forward pass (what evaluation scores) is bptt's.
    np.testing.assert_allclose(task_outputs(net, batch), res.outputs, rtol=1e-13, atol=1e-15)


def test_a_zero_leak_is_the_run_without_leak():
    """leak=0 runs the leaky code with h_t = 0 h_{t-1} + 1 sigma(a_t): exactly the run without leak, bit for bit;
    a leaky run is another run, whose net carries its leak (and error_rate scores it)."""
    kw = dict(length=10, seed=3, max_updates=20, **TINY)
    plain = train("temporal_order", **kw)
    zero = train("temporal_order", leak=0.0, **kw)
    leaky = train("temporal_order", leak=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], **kw)
    for k in KEYS:
        np.testing.assert_array_equal(zero.params[k], plain.params[k], err_msg=k)
    np.testing.assert_array_equal(zero.history.omega, plain.history.omega)
    assert "leak" not in plain.config and zero.config["leak"] == 0.0 and plain.net.leak is None
    assert not np.allclose(leaky.params["W_rec"], plain.params["W_rec"])
    np.testing.assert_array_equal(leaky.net.leak, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    rate = dynrnn.error_rate(leaky.net, "temporal_order", 10, n_sequences=200, rng=5)
    batch = dynrnn.tasks.temporal_order(200, 10, rng=np.random.default_rng(5))
    assert rate == dynrnn.tasks.sequence_errors(batch, task_outputs(leaky.net, batch)).mean()


# ----------------------------------------------------------------------------- GRU and LSTM task models

GATED_KEYS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")


def _gated_problem(cell, task, length, n_units, batch_size, seed):
    rng = np.random.default_rng(seed)
    batch = dynrnn.tasks.get_task(task)(batch_size, length, rng=rng)
    net = dynrnn.init_network("uniform", n_units, batch.n_inputs, batch.n_outputs, rng=rng, cell=cell)
    every = batch.at == "every"
    scale = 1.0 / (batch_size * batch.inputs.shape[0]) if every else 1.0 / batch_size
    return batch, net, every, scale


def _gated_fused(net, batch, every, scale, hyper, params=None):
    params = tuple(np.array(getattr(net, k)) for k in GATED_KEYS) if params is None else params
    velocity = tuple(np.zeros_like(p) for p in params)
    stats = np.zeros(kernels.N_STATS)
    kernels.train_step(net.cell, params, velocity, np.ascontiguousarray(batch.inputs), _dense_targets(batch),
                       LOSS_CODES[batch.loss], every, scale, hyper, kernels.Scratch(net.n_units, net.dtype),
                       stats)  # fmt: skip
    return dict(zip(GATED_KEYS, params, strict=True)), stats


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("task, length", [("temporal_order", 10), ("memorization", 3), ("addition", 10)])
@pytest.mark.parametrize("threshold, momentum", [(np.inf, 0.0), (0.05, 0.5)])
def test_gated_update_equals_bptt_and_sgd_step(cell, task, length, threshold, momentum):
    """One fused update of a GRU or LSTM task model == dynrnn.bptt (gated), then SGD.step, to 1e-12."""
    batch, net, every, scale = _gated_problem(cell, task, length, 5, 3, 21)
    lr = 0.2
    hyper = (lr, momentum, False, threshold, 0.0, False, True, 1e-20, kernels.SHRINK)
    new, stats = _gated_fused(net, batch, every, scale, hyper)
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)
    f = 1.0 / batch.inputs.shape[0] if every else 1.0  # memorization: the time mean
    grads = {k: np.asarray(res.grads[k]) * f for k in GATED_KEYS}
    opt = SGD(lr=lr, momentum=momentum, threshold=None if np.isinf(threshold) else threshold, nonfinite="skip")
    params = {k: np.array(getattr(net, k)) for k in GATED_KEYS}
    ref, _, info = opt.step(params, grads, opt.init(params), 0)
    assert stats[kernels.LOSS] == pytest.approx(res.loss * f, rel=1e-12)
    assert stats[kernels.NORM] == pytest.approx(info.grad_norm, rel=1e-12)
    assert bool(stats[kernels.CLIPPED]) == info.clipped == np.isfinite(threshold)
    assert np.isnan(stats[kernels.OMEGA]) and stats[kernels.UPDATED] == 1.0
    for k in GATED_KEYS:
        np.testing.assert_allclose(new[k], ref[k], rtol=1e-12, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_gated_update_nonfinite_policies(cell):
    """A non-finite gradient: "stop" moves nothing, "skip" moves nothing but counts, "shrink" shrinks W_hh only."""
    batch, net, every, scale = _gated_problem(cell, "temporal_order", 10, 4, 3, 2)
    before = {k: np.array(getattr(net, k)) for k in GATED_KEYS}
    before["W_out"][0, 0] = np.inf
    base = (0.1, 0.0, False, 1.0, 0.0, False, True, 1e-20)
    for code, slot in ((kernels.STOP, None), (kernels.SKIP, kernels.SKIPPED), (kernels.SHRINK, kernels.SHRUNK)):
        params = tuple(before[k].copy() for k in GATED_KEYS)
        new, stats = _gated_fused(net, batch, every, scale, base + (code,), params=params)
        assert not np.isfinite(stats[kernels.NORM])
        if slot is None:
            assert stats[kernels.UPDATED] == 0.0
        else:
            assert stats[slot] == 1.0 and stats[kernels.UPDATED] == 1.0
        shrunk = code == kernels.SHRINK
        np.testing.assert_allclose(new["W_hh"], before["W_hh"] * (1.0 - 0.1 * 0.02 if shrunk else 1.0), rtol=1e-15)
        for k in ("W_ih", "b_ih", "b_hh", "b_out"):
            np.testing.assert_array_equal(new[k], before[k], err_msg=k)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_gated_cells_train_end_to_end(cell, tmp_path):
    """dynrnn.train(cell=...): the defaults (uniform, MSGD-C), the net it returns, its evaluation, exact resume and
    a saved result that loads back."""
    kw = dict(cell=cell, length=10, seed=1, max_updates=30, **TINY)
    r = train("temporal_order", **kw)
    assert (r.config["cell"], r.config["init"], r.config["method"], r.config["alpha"]) == (cell, "uniform", "MSGD-C",
                                                                                         0.0)  # fmt: skip
    assert r.activation is None and sorted(r.params) == sorted(GATED_KEYS) and r.n_updates == 30
    assert np.isnan(r.history.rho).all() and np.isnan(r.history.omega).all()
    assert np.isfinite(r.history.train_loss).all() and r.history.n_clipped.sum() >= 0
    net = r.net
    assert type(net).__name__ == cell.upper() and net.n_units == 6 and net.n_outputs == 4
    for k in GATED_KEYS:
        np.testing.assert_array_equal(getattr(net, k), r.params[k])
    rate = dynrnn.error_rate(net, "temporal_order", 10, n_sequences=200, rng=5)
    batch = dynrnn.tasks.temporal_order(200, 10, rng=np.random.default_rng(5))  # one chunk: the same draws
    outputs = task_outputs(net, batch)
    assert rate == dynrnn.tasks.sequence_errors(batch, outputs).mean()
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)
    np.testing.assert_allclose(outputs, res.outputs, rtol=1e-13, atol=1e-15)
    # Exact resume from a checkpoint, and a saved result that loads back.
    ck = tmp_path / "ck.npz"
    train("temporal_order", **{**kw, "max_updates": 12}, checkpoint=ck)
    resumed = train("temporal_order", **kw, checkpoint=ck, resume=True)
    for k in GATED_KEYS:
        np.testing.assert_array_equal(resumed.params[k], r.params[k], err_msg=k)
    assert resumed.final_error == r.final_error
    with pytest.raises(ValueError, match="cell"):
        train("temporal_order", **{**kw, "cell": "lstm" if cell == "gru" else "gru"}, checkpoint=ck, resume=True)
    r.save(tmp_path / "r.npz")
    back = dynrnn.TrainResult.load(tmp_path / "r.npz")
    assert dict(back.config) == dict(r.config) and back.summary() == r.summary()
    assert type(back.net) is type(net)
    for k in GATED_KEYS:
        np.testing.assert_array_equal(back.params[k], r.params[k], err_msg=k)


def test_fused_update_nonfinite_policies():
    batch, net, every, scale = _problem("temporal_order", 10, 4, 3, "basic_tanh", 1)
    params = {k: np.array(getattr(net, k)) for k in KEYS}
    params["W_out"][0, 0] = np.inf  # a non-finite gradient
    before = {k: v.copy() for k, v in params.items()}
    base = (0.1, 0.0, False, 1.0, 0.0, False, True, 1e-20)
    new, _, stats = _fused(net, batch, every, scale, base + (kernels.STOP,), params=tuple(params[k] for k in KEYS))
    assert stats[kernels.UPDATED] == 0.0 and not np.isfinite(stats[kernels.NORM])
    for k in KEYS:
        np.testing.assert_array_equal(new[k], before[k])
    params = {k: v.copy() for k, v in before.items()}
    new, _, stats = _fused(net, batch, every, scale, base + (kernels.SKIP,), params=tuple(params[k] for k in KEYS))
    assert stats[kernels.SKIPPED] == 1.0 and stats[kernels.UPDATED] == 1.0
    np.testing.assert_array_equal(new["W_rec"], before["W_rec"])
    params = {k: v.copy() for k, v in before.items()}
    new, _, stats = _fused(net, batch, every, scale, base + (kernels.SHRINK,), params=tuple(params[k] for k in KEYS))
    assert stats[kernels.SHRUNK] == 1.0
    np.testing.assert_allclose(new["W_rec"], before["W_rec"] * (1.0 - 0.1 * 0.02), rtol=1e-15)
    np.testing.assert_array_equal(new["W_in"], before["W_in"])


# ----------------------------------------------------------------------------- relu units (irnn), the later tasks


def _relu_loss(params, batch):
    """The batch's training loss by a plain NumPy forward pass of a relu task model (no dynrnn code)."""
    W_rec, W_in, b, W_out, b_out = (params[k] for k in KEYS)
    T, B, _ = batch.inputs.shape
    h = np.zeros((B, W_rec.shape[0]))
    total = 0.0
    for t in range(T):
        h = np.maximum(h @ W_rec.T + batch.inputs[t] @ W_in.T + b, 0.0)
        if batch.at == "every" or t == T - 1:
            y = h @ W_out.T + b_out
            if batch.loss == "cross_entropy":
                labels = batch.targets[t] if batch.at == "every" else batch.targets
                z = y - y.max(axis=1, keepdims=True)
                log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
                total -= log_p[np.arange(B), labels].sum()
            else:
                total += ((y - batch.targets) ** 2).sum()
    return total / (B * T) if batch.at == "every" else total / B


@pytest.mark.parametrize("task, length", [("le_adding", 8), ("copy", 3), ("temporal_order", 10)])
def test_relu_update_matches_the_public_functions_and_finite_differences(task, length):
    """The fused update trains relu units: irnn's network against bptt + Omega + SGD.step, and the gradient of a
    generic relu network (weights of order 1, so that units switch on and off) against central differences."""
    batch, net, every, scale = _problem(task, length, 5, 3, "irnn", 4)
    assert net.activation == "relu"
    lr, alpha = 0.1, 2.0
    hyper = (lr, 0.0, False, np.inf, alpha, False, True, 1e-20, kernels.SHRINK)
    new, _, stats = _fused(net, batch, every, scale, hyper)
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)
    f = 1.0 / batch.inputs.shape[0] if every else 1.0
    grads = {k: np.asarray(v) * f for k, v in res.grads.items() if k in KEYS}
    reg = vanishing_regularizer(net, dataclasses.replace(res, dloss_dx=np.asarray(res.dloss_dx) * f), batch.inputs)
    grads["W_rec"] = grads["W_rec"] + alpha * reg.grad_W_rec
    opt = SGD(lr=lr, nonfinite="shrink")
    params = {k: np.array(getattr(net, k)) for k in KEYS}
    ref, _, _ = opt.step(params, grads, opt.init(params), 0)
    assert stats[kernels.LOSS] == pytest.approx(res.loss * f, rel=1e-12)
    assert stats[kernels.OMEGA] == pytest.approx(reg.omega, rel=1e-9, abs=1e-15)
    for k in KEYS:
        np.testing.assert_allclose(new[k], ref[k], rtol=1e-12, atol=1e-15, err_msg=k)
    # A generic relu network: the gradient (lr = 1, no Omega, no clipping: new = old - grad) by central differences.
    rng = np.random.default_rng(9)
    n, m, q = 5, batch.n_inputs, batch.n_outputs
    generic = dynrnn.RNN(0.8 * np.eye(n) + 0.3 * rng.standard_normal((n, n)), W_in=0.8 * rng.standard_normal((n, m)),
                         b=0.2 * rng.standard_normal(n), W_out=0.8 * rng.standard_normal((q, n)),
                         b_out=0.1 * rng.standard_normal(q), activation="relu", form="standard")  # fmt: skip
    params = {k: np.array(getattr(generic, k)) for k in KEYS}
    hyper = (1.0, 0.0, False, np.inf, 0.0, False, True, 1e-20, kernels.SHRINK)
    new, _, stats = _fused(generic, batch, every, scale, hyper)
    assert stats[kernels.LOSS] == pytest.approx(_relu_loss(params, batch), rel=1e-12)
    eps = 1e-6
    for k in KEYS:
        fd = np.zeros_like(params[k])
        for idx in np.ndindex(params[k].shape):
            up = {kk: v.copy() for kk, v in params.items()}
            down = {kk: v.copy() for kk, v in params.items()}
            up[k][idx] += eps
            down[k][idx] -= eps
            fd[idx] = (_relu_loss(up, batch) - _relu_loss(down, batch)) / (2 * eps)
        # the differences lose ~1e-8 of the largest entry to rounding of the loss
        np.testing.assert_allclose(params[k] - new[k], fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max(), err_msg=k)


@pytest.mark.parametrize("task, init, length", [("copy", "orthogonal", 3), ("le_adding", "irnn", 10)])
def test_later_tasks_train_end_to_end(task, init, length):
    """A few hundred updates of dynrnn.train on copy and le_adding, then dynrnn.error_rate on the result."""
    r = train(task, init=init, length=length, seed=0, n_units=8, batch_size=10, max_updates=300, eval_every=100,
              n_check=100, n_eval=200, progress=False)  # fmt: skip
    assert r.n_updates == 300 and r.status == "max_updates" and not r.diverged
    assert r.activation == dynrnn.training.inits.INITS[init][0]
    assert np.isfinite(r.history.train_loss).all() and r.history.train_loss[-1] < r.history.train_loss[0]
    assert 0.0 <= r.final_error <= 1.0
    rate = dynrnn.error_rate(r.net, task, length, n_sequences=300, rng=5)
    batch = dynrnn.tasks.get_task(task)(300, length, rng=np.random.default_rng(5))  # one chunk: the same draws
    assert rate == dynrnn.tasks.sequence_errors(batch, task_outputs(r.net, batch)).mean()


# ----------------------------------------------------------------------------- the task model


@pytest.mark.parametrize("task, length", TASK_CASES)
def test_task_outputs_match_bptt_and_naive_forward(task, length):
    batch, net, _, _ = _problem(task, length, 7, 4, "basic_tanh", 3)
    out = task_outputs(net, batch)
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)
    np.testing.assert_allclose(out, res.outputs, rtol=1e-13, atol=1e-15)
    H = naive_train.forward({k: np.asarray(getattr(net, k)) for k in KEYS}, net.activation, batch.inputs)
    Y = H[1:] @ np.asarray(net.W_out).T + np.asarray(net.b_out)
    np.testing.assert_allclose(out, Y if batch.at == "every" else Y[-1:], rtol=1e-12, atol=1e-14)


def test_error_rate_counts_sequence_errors():
    net = dynrnn.init_network("smart_tanh", 8, 6, 4, rng=0)
    rate = error_rate(net, "temporal_order", 20, n_sequences=300, rng=5)
    rng = np.random.default_rng(5)
    errors = 0
    batch = dynrnn.tasks.temporal_order(300, 20, rng=rng)  # one chunk: the same draws
    errors = int(dynrnn.tasks.sequence_errors(batch, task_outputs(net, batch)).sum())
    assert rate == errors / 300
    assert 0.5 < rate < 1.0  # chance is 3/4


def test_task_model_bad_input():
    batch = dynrnn.tasks.temporal_order(2, 10, rng=0)
    with pytest.raises(TypeError, match="net"):
        task_outputs("net", batch)
    with pytest.raises(ValueError, match="net"):
        task_outputs(dynrnn.init_network("basic_tanh", 4, 2, 1, rng=0), batch)
    with pytest.raises(ValueError, match="standard-form"):
        task_outputs(dynrnn.RNN(np.eye(3), np.ones((3, 6)), W_out=np.ones((4, 3))), batch)
    with pytest.raises(TypeError, match="batch"):
        task_outputs(dynrnn.init_network("basic_tanh", 4, 6, 4, rng=0), None)
    net = dynrnn.init_network("basic_tanh", 4, 6, 4, rng=0)
    with pytest.raises(ValueError, match="n_sequences"):
        error_rate(net, "temporal_order", 10, n_sequences=0)
    with pytest.raises(ValueError, match="length"):
        error_rate(net, "temporal_order", (20, 10))


# ----------------------------------------------------------------------------- train()


def test_same_seed_same_run_and_seeds_differ():
    a = train("temporal_order", length=10, seed=3, max_updates=30, **TINY)
    b = train("temporal_order", length=10, seed=3, max_updates=30, **TINY)
    c = train("temporal_order", length=10, seed=4, max_updates=30, **TINY)
    for k in KEYS:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    np.testing.assert_array_equal(a.history.train_loss, b.history.train_loss)
    assert not np.array_equal(a.params["W_rec"], c.params["W_rec"])
    assert a.n_updates == 30 and len(a.history) == 3 and a.status == "max_updates"
    assert np.all(np.isfinite(a.history.rho)) and np.all(a.history.omega >= 0)


def test_history_logs_window_means():
    r = train("temporal_order", length=10, seed=0, max_updates=25, **TINY)
    np.testing.assert_array_equal(r.history.update, [10, 20, 25])
    assert np.all(r.history.train_loss > 0)  # every window has updates
    assert np.all(r.history.grad_norm <= r.history.grad_norm_max)
    assert np.all(r.history.n_clipped <= [10, 10, 5])
    rho = np.max(np.abs(np.linalg.eigvals(r.params["W_rec"])))
    assert r.history.rho[-1] == pytest.approx(rho, rel=1e-12)


def test_methods_differ_only_as_documented():
    kw = dict(length=10, seed=2, max_updates=20, lr=0.5, **TINY)
    msgd = train("temporal_order", method="MSGD", **kw)
    clip = train("temporal_order", method="MSGD-C", threshold=1e-3, **kw)
    assert msgd.config["threshold"] is None and msgd.config["alpha"] == 0.0
    assert msgd.history.n_clipped.sum() == 0 and clip.history.n_clipped.sum() == 20
    cr = train("temporal_order", method="MSGD-CR", **kw)
    assert cr.config["alpha"] == dynrnn.training.train.PAPER_ALPHA
    code = train("temporal_order", method="MSGD-CR", alpha=2.0, **kw)
    assert not np.array_equal(cr.params["W_rec"], code.params["W_rec"])
    np.testing.assert_array_equal(code.history.omega[:1] > 0, [True])


def test_other_tasks_train_through_the_same_machinery():
    for task, length in [("addition", 10), ("multiplication", 10), ("temporal_order_3bit", 10),
                         ("permutation", 5), ("memorization", 2)]:  # fmt: skip
        r = train(task, length=length, seed=0, max_updates=10, **TINY)
        assert r.n_updates == 10 and np.isfinite(r.history.train_loss).all(), task
        assert 0.0 <= r.final_error <= 1.0


def test_variable_length_training():
    r = train("temporal_order", length=(10, 30), seed=0, max_updates=20, **TINY)
    assert r.config["length"] == [10, 30] and r.n_updates == 20


def test_divergence_is_a_result_not_a_crash():
    kw = dict(length=10, seed=0, max_updates=50, lr=1e6, init="basic_tanh", **TINY)
    msgd = train("temporal_order", method="MSGD", **kw)
    assert msgd.n_updates <= 50
    if msgd.diverged:
        assert msgd.status == "diverged" and all(np.isfinite(v).all() for v in msgd.params.values())
    shrink = train("temporal_order", method="MSGD", nonfinite="shrink", **kw)
    assert all(np.isfinite(v).all() for v in shrink.params.values())
    r = dataclasses.replace(shrink, params={k: np.full_like(v, np.nan) for k, v in shrink.params.items()})
    assert r.net is None


def test_learns_temporal_order_at_a_short_length():
    """Training does something: smart tanh MSGD-CR solves temporal order at L = 10."""
    r = train("temporal_order", length=10, seed=0, n_units=20, max_updates=6000, eval_every=200, n_check=500,
              n_eval=2000)  # fmt: skip
    assert r.success, r.history.valid_error
    assert r.status == "success" and r.updates_to_success <= 6000
    assert r.final_error < 0.02


def test_save_and_load_round_trip(tmp_path):
    r = train("temporal_order", length=10, seed=0, max_updates=20, **TINY)
    r.save(tmp_path / "run.npz")
    back = dynrnn.TrainResult.load(tmp_path / "run.npz")
    assert back.summary() == r.summary() and dict(back.config) == dict(r.config)
    for k in KEYS:
        np.testing.assert_array_equal(back.params[k], r.params[k])
    np.testing.assert_array_equal(back.history.valid_error, r.history.valid_error)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        dynrnn.TrainResult.load(tmp_path / "junk.npz")


def test_resume_continues_exactly(tmp_path):
    ck = tmp_path / "ck.npz"
    straight = train("temporal_order", length=10, seed=5, max_updates=40, **TINY)
    first = train("temporal_order", length=10, seed=5, max_updates=15, checkpoint=ck, **TINY)
    assert first.n_updates == 15 and ck.exists()
    resumed = train("temporal_order", length=10, seed=5, max_updates=40, checkpoint=ck, resume=True, **TINY)
    assert resumed.n_updates == 40
    for k in KEYS:
        np.testing.assert_array_equal(resumed.params[k], straight.params[k])
    np.testing.assert_array_equal(resumed.history.update, [10, 15, 20, 30, 40])
    np.testing.assert_array_equal(resumed.history.train_loss[-2:], straight.history.train_loss[-2:])
    assert resumed.final_error == straight.final_error
    again = train("temporal_order", length=10, seed=5, max_updates=40, checkpoint=ck, resume=True, **TINY)
    assert again.summary()["n_updates"] == 40  # a finished run comes back as it is
    with pytest.raises(ValueError, match="lr"):
        train("temporal_order", length=10, seed=5, max_updates=40, lr=0.5, checkpoint=ck, resume=True, **TINY)


def test_ctrl_c_leaves_a_checkpoint_that_resumes(tmp_path):
    ck = tmp_path / "ck.npz"
    # stop_on_success=False: the run must still be going when Ctrl-C comes (it learns this task in ~600 updates).
    settings = dict(
        length=10, seed=1, n_units=6, batch_size=5, eval_every=10, n_check=20, n_eval=20, stop_on_success=False
    )
    code = f"import dynrnn; dynrnn.train('temporal_order', max_updates=10**7, checkpoint={str(ck)!r}, " \
           f"checkpoint_every=0.2, **{settings!r})"  # fmt: skip
    interrupt_after_checkpoint(code, ck)
    done = read_npz(ck, CHECKPOINT_FORMAT)[0]["counters"]["t"]
    assert done > 0
    r = train("temporal_order", max_updates=done + 7, checkpoint=ck, resume=True, **settings)
    assert r.n_updates == done + 7 and r.status == "max_updates"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"task": "nope"}, ValueError, "task"),
        ({"init": "nope"}, ValueError, "init"),
        ({"method": "SGD"}, ValueError, "method"),
        ({"length": 0}, ValueError, "length"),
        ({"length": 5}, ValueError, "length"),  # temporal order needs L >= 10
        ({"length": (30, 20)}, ValueError, "length"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": "fast"}, TypeError, "lr"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"alpha": 1.0, "method": "MSGD-C"}, ValueError, "alpha"),
        ({"threshold": 0.0}, ValueError, "threshold"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"nonfinite": "raise"}, ValueError, "nonfinite"),
        ({"max_updates": 0}, ValueError, "max_updates"),
        ({"n_units": 0}, ValueError, "n_units"),
        ({"success_error": 0.0}, ValueError, "success_error"),
        ({"seed": -1}, ValueError, "seed"),
        ({"resume": True}, ValueError, "checkpoint"),
        ({"dtype": np.int32}, (TypeError, ValueError), "dtype"),
        ({"task_options": {"n_values": 2.5}}, TypeError, "task_options"),
        ({"leak": 1.0}, ValueError, r"leak must lie in \[0, 1\)"),
        ({"leak": -0.1}, ValueError, r"leak must lie in \[0, 1\)"),
        ({"leak": [0.5] * 3, "n_units": 4}, ValueError, r"leak must be a number or an array of shape \(n_units,\)"),
        ({"leak": np.nan}, ValueError, "leak must be finite"),
        ({"leak": "half"}, TypeError, "leak"),
        ({"leak": True}, TypeError, "leak"),
        ({"cell": "rnn2"}, ValueError, "cell must be one of"),
        ({"cell": "gru", "init": "smart_tanh"}, ValueError, "init 'smart_tanh' draws an RNN; a GRU takes init in"),
        ({"cell": "lstm", "method": "MSGD-CR"}, ValueError, "'MSGD-CR' adds Omega .* train a LSTM with 'MSGD' or"),
        ({"cell": "gru", "alpha": 1.0}, ValueError, "alpha must be 0 for method 'MSGD-C'"),
        ({"cell": "gru", "leak": 0.5}, ValueError, "leak is a setting of the RNN's units; a GRU has none"),
        ({"init": "uniform"}, ValueError, "init 'uniform' is for a GRU or LSTM"),
        ({"cell": "lstm", "init": "nope"}, ValueError, "init must be one of 'uniform'"),
    ],
)
def test_train_bad_input(kwargs, error, match):
    args = {"task": "temporal_order", "length": 10, "max_updates": 1}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        train(args.pop("task"), **args)


def test_sweep_runs_train_and_stores_its_summary(tmp_path):
    """The real run function of dynrnn.sweep: two tiny runs in-process, stored once each."""
    db = tmp_path / "runs.sqlite"
    settings = dict(TINY, max_updates=20)
    first = dynrnn.sweep(db, methods=("MSGD", "MSGD-CR"), inits=("basic_tanh",), lengths=(10,), seeds=(0,),
                         settings=settings, scheduler="serial")  # fmt: skip
    assert first.n_run == 2 and first.n_failed == 0
    direct = train("temporal_order", init="basic_tanh", method="MSGD-CR", length=10, seed=0, **settings)
    record = next(r for r in first.records if r["method"] == "MSGD-CR")
    assert record["n_updates"] == 20 and record["final_error"] == pytest.approx(direct.final_error)
    again = dynrnn.sweep(db, methods=("MSGD", "MSGD-CR"), inits=("basic_tanh",), lengths=(10,), seeds=(0,),
                         settings=settings, scheduler="serial")  # fmt: skip
    assert again.n_skipped == 2 and again.n_run == 0


@pytest.mark.slow
def test_float32_training_follows_float64():
    """dtype=float32 runs the same update in single precision: after a few updates it tracks float64 closely."""
    kw = dict(length=10, seed=0, max_updates=10, **TINY)
    single = train("temporal_order", dtype=np.float32, **kw)
    double = train("temporal_order", **kw)
    assert single.params["W_rec"].dtype == np.float32 and single.config["dtype"] == "float32"
    for k in KEYS:
        np.testing.assert_allclose(single.params[k], double.params[k], rtol=1e-3, atol=1e-5, err_msg=k)
