"""Tests of `dynrnn.bptt`: finite differences, eq. (4) term by term, the eq. (7) bound, form equivalence."""

import naive_bptt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from naive import GAMMA, sigma

import dynrnn
import dynrnn.testing as dt

ACTIVATIONS = ("logistic", "tanh", "relu", "linear")
LOSS_CASES = [
    ("squared_error", "every"),
    ("squared_error", "last"),
    ("readout_squared_error", "every"),
    ("readout_squared_error", "last"),
    ("cross_entropy", "every"),
    ("cross_entropy", "last"),
]


def make_problem(rng, *, n=3, m=2, q=4, T=5, B=3, form="paper", activation="tanh", leak=False, kind="squared_error",
                 at="every", scale=0.6):  # fmt: skip
    params = {
        "W_rec": rng.normal(0.0, scale, (n, n)),
        "W_in": rng.normal(0.0, 1.0, (n, m)),
        "b": rng.normal(0.0, 0.5, n),
        "W_out": rng.normal(0.0, 1.0, (q, n)),
        "b_out": rng.normal(0.0, 0.5, q),
        "x0": rng.normal(0.0, 1.0, (B, n)),
    }
    inputs = rng.normal(0.0, 1.0, (T, B, m))
    lead = (T, B) if at == "every" else (B,)
    width = n if kind == "squared_error" else q
    if kind == "cross_entropy":
        labels = rng.integers(0, q, lead)
        targets = np.eye(q)[labels]
    else:
        labels = None
        targets = rng.normal(0.0, 1.0, lead + (width,))
    problem = {
        "activation": activation,
        "form": form,
        "leak": rng.uniform(0.0, 1.0, n) if leak else None,
        "inputs": inputs,
        "targets": targets,
        "kind": kind,
        "at": at,
    }
    return params, problem, labels


def run(params, problem, labels=None, **kw):
    net = dynrnn.RNN(
        params["W_rec"],
        params["W_in"],
        params["b"],
        activation=problem["activation"],
        form=problem["form"],
        leak=problem["leak"],
        W_out=params["W_out"],
        b_out=params["b_out"],
    )
    targets = labels if labels is not None else problem["targets"]
    return dynrnn.bptt(net, params["x0"], problem["inputs"], targets, loss=problem["kind"], at=problem["at"], **kw)


def assert_close_to_fd(analytic, fd):
    # central differences with h = 1e-6: O(h^2) truncation plus ~1e-10 round-off
    scale = np.max(np.abs(fd))
    np.testing.assert_allclose(analytic, fd, rtol=1e-6, atol=1e-6 * scale + 1e-8)


# ----------------------------------------------------------------------------- exact gradient


@pytest.mark.parametrize("kind,at", LOSS_CASES)
@pytest.mark.parametrize("form", ["paper", "standard"])
def test_gradient_matches_finite_differences(rng, kind, at, form):
    for activation, leak in (("tanh", False), ("logistic", True)):
        params, problem, labels = make_problem(rng, form=form, activation=activation, leak=leak, kind=kind, at=at)
        res = run(params, problem, labels, wrt_x0=True)
        names = list(res.grads)
        fd = naive_bptt.finite_difference_grads(params, names, **problem)
        assert res.loss == pytest.approx(naive_bptt.loss(params, **problem), rel=1e-12)
        for name in names:
            assert_close_to_fd(res.grads[name], fd[name])


@given(p=dt.gradient_problems(activations=("logistic", "tanh", "linear"), leak=True, n_steps=(1, 6),
                              spectral_norm=(0.0, 1.0)))  # fmt: skip
def test_gradient_matches_finite_differences_on_drawn_problems(p):
    """Every loss, form, leak and x0 against central differences of bptt's own loss (dynrnn.testing's tolerance)."""
    dt.assert_gradient_matches_finite_differences(*p[:4], loss=p.loss, at=p.at, wrt_x0=True)


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_gradient_unbounded_activations(rng, activation):
    params, problem, labels = make_problem(rng, activation=activation, kind="readout_squared_error", scale=0.4)
    res = run(params, problem, labels)
    fd = naive_bptt.finite_difference_grads(params, list(res.grads), **problem)
    for name in res.grads:
        assert_close_to_fd(res.grads[name], fd[name])


def test_docstring_known_answer():
    # x_1 = 1, x_2 = 0.5 + 1 = 1.5; E = (1.5 - 1)^2; dE/dW_in = 2 * 0.5 * (0.5 * 1 + 1) = 1.5
    net = dynrnn.RNN([[0.5]], W_in=[[1.0]], activation="linear")
    res = dynrnn.bptt(net, [0.0], np.ones((2, 1, 1)), [[1.0]], at="last")
    assert res.loss == 0.25
    np.testing.assert_allclose(res.grads["W_in"], [[1.5]], rtol=1e-15)
    np.testing.assert_allclose(res.grads["W_rec"], [[1.0]], rtol=1e-15)  # 2 * 0.5 * x_1


def test_shared_x0_gradient_is_the_batch_sum(rng):
    params, problem, labels = make_problem(rng, B=4)
    per = run(params, problem, labels, wrt_x0=True)
    shared = {**params, "x0": params["x0"][0]}
    problem_shared = {**problem}
    res = dynrnn.bptt(
        dynrnn.RNN(params["W_rec"], params["W_in"], params["b"], activation="tanh", W_out=params["W_out"]),
        shared["x0"], problem["inputs"], problem["targets"], at="every", wrt_x0=True,
    )  # fmt: skip
    fd = naive_bptt.finite_difference_grads(
        {**shared, "x0": np.broadcast_to(shared["x0"], params["x0"].shape).copy()}, ["x0"], **problem_shared
    )
    assert res.grads["x0"].shape == (3,)
    assert per.grads["x0"].shape == (4, 3)
    assert_close_to_fd(res.grads["x0"], fd["x0"].sum(axis=0))


def test_labels_equal_one_hot_targets(rng):
    params, problem, labels = make_problem(rng, kind="cross_entropy", at="every")
    by_label = run(params, problem, labels)
    by_one_hot = run(params, problem)
    assert by_label.loss == by_one_hot.loss
    for name in by_label.grads:
        np.testing.assert_array_equal(by_label.grads[name], by_one_hot.grads[name])


# ----------------------------------------------------------------------------- temporal contributions (eq. 4)


@pytest.mark.parametrize("kind,at", LOSS_CASES)
@pytest.mark.parametrize("form", ["paper", "standard"])
@pytest.mark.parametrize("leak", [False, True])
def test_window_contributions_match_the_explicit_jacobian_products(rng, kind, at, form, leak):
    params, problem, labels = make_problem(rng, form=form, leak=leak, kind=kind, at=at, activation="logistic")
    res = run(params, problem, labels, contributions="window")
    expected = naive_bptt.window_contributions(params, **problem)
    for name in ("W_rec", "W_in", "b"):
        np.testing.assert_allclose(res.window_contributions[name], expected[name], rtol=1e-10, atol=1e-14)
        # the lag sums are the diagonals t - k = lag of the window array
        T = res.n_steps
        by_lag = np.stack([sum(expected[name][t, t - lag] for t in range(lag, T)) for lag in range(T)])
        np.testing.assert_allclose(res.contributions[name], by_lag, rtol=1e-10, atol=1e-14)


@given(p=dt.gradient_problems(leak=True, spectral_norm=(0.0, 0.8), batch_size=(1, 4)))
def test_contributions_sum_to_the_gradient(p):
    # With at="last" the contributions and the gradient are sums of the same deltas, so this
    # checks the bookkeeping only; the naive comparison above checks their values.  With
    # at="every" the contributions come from a separate kernel (one backward pass per E_t).
    # By lag and by window; windows with k > t are zero (dynrnn.testing states the tolerance).
    dt.assert_contributions_sum_to_gradient(p.bptt(contributions="window"))


@given(
    activation=st.sampled_from(ACTIVATIONS),
    n=st.integers(1, 8),
    T=st.integers(2, 25),
    margin=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**32 - 1),
)
def test_eq7_contributions_vanish_geometrically(activation, n, T, margin, seed):
    """If ||W_rec||_2 < 1/gamma, every temporal contribution shrinks at least like eta^(t-k) (eqs. 6-7).

    Paper form, one sequence: the term of E_t through x_k is delta_k^(t) s_{k-1}^T with
    delta_k^(t) = dE_t/dx_t (dx_t/dx_k), so ||C[t, k]|| / ||s_{k-1}|| <= eta^(t-k) ||C[t, t]|| / ||s_{t-1}||,
    eta = gamma ||W_rec||_2 < 1.
    """
    rng = np.random.default_rng(seed)
    gamma = GAMMA[activation]
    W = rng.normal(size=(n, n))
    W *= margin / (gamma * np.linalg.norm(W, 2))
    eta = gamma * np.linalg.norm(W, 2)
    m = 2
    net = dynrnn.RNN(W, W_in=rng.normal(size=(n, m)), b=rng.normal(size=n), activation=activation)
    res = dynrnn.bptt(net, rng.normal(size=n), rng.normal(size=(T, 1, m)), rng.normal(size=(T, 1, n)),
                      contributions="window")  # fmt: skip
    C = res.window_contributions["W_rec"]
    s = sigma(activation, res.x[:, 0])  # s_k = sigma(x_k)
    for t in range(1, T + 1):
        head = np.linalg.norm(C[t - 1, t - 1]) / max(np.linalg.norm(s[t - 1]), 1e-300)
        for k in range(1, t + 1):
            ratio = np.linalg.norm(C[t - 1, k - 1]) / max(np.linalg.norm(s[k - 1]), 1e-300)
            assert ratio <= eta ** (t - k) * head * (1 + 1e-9) + 1e-300


@given(
    activation=st.sampled_from(ACTIVATIONS), n=st.integers(1, 8), T=st.integers(2, 30), seed=st.integers(0, 2**32 - 1)
)
def test_eq7_error_signal_bound_last_step(activation, n, T, seed):
    """||dE_T/dx_k|| <= (gamma ||W_rec||_2)^(T-k) ||dE_T/dx_T|| for any W_rec (eqs. 6-7), both forms."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, n)) * rng.uniform(0.1, 2.0) / np.sqrt(n)
    eta = GAMMA[activation] * np.linalg.norm(W, 2)
    for form in ("paper", "standard"):
        net = dynrnn.RNN(W, b=rng.normal(size=n), activation=activation, form=form)
        res = dynrnn.bptt(net, rng.normal(size=(2, n)), None, rng.normal(size=(2, n)), at="last", n_steps=T)
        g = np.linalg.norm(res.dloss_dx, axis=2)  # (T + 1, B)
        lags = T - np.arange(T + 1)
        bound = np.exp(lags[:, None] * np.log(max(eta, 1e-300))) * g[T]
        assert np.all(g <= bound * (1 + 1e-9) + 1e-300)


# ----------------------------------------------------------------------------- equivalences and laws


@given(
    activation=st.sampled_from(ACTIVATIONS),
    kind_at=st.sampled_from(LOSS_CASES),
    sizes=st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 10), st.integers(1, 3)),
    seed=st.integers(0, 2**32 - 1),
)
def test_paper_and_standard_forms_define_the_same_loss(activation, kind_at, sizes, seed):
    """Footnote 1: with h_t = sigma(x_t), both forms are one system, so loss and gradients agree."""
    n, m, T, B = sizes
    kind, at = kind_at
    rng = np.random.default_rng(seed)
    params, problem, labels = make_problem(rng, n=n, m=m, T=T, B=B, activation=activation, kind=kind, at=at,
                                           scale=0.7 / n)  # fmt: skip
    paper = run(params, {**problem, "form": "paper"}, labels)
    standard = run({**params, "x0": sigma(activation, params["x0"])}, {**problem, "form": "standard"}, labels)
    assert paper.loss == pytest.approx(standard.loss, rel=1e-12, abs=1e-14)
    for name in paper.grads:
        scale = np.max(np.abs(paper.grads[name]), initial=0.0)
        np.testing.assert_allclose(paper.grads[name], standard.grads[name], rtol=1e-10, atol=1e-12 * scale + 1e-15)


def test_float32_agrees_with_float64(rng):
    params, problem, labels = make_problem(rng, kind="cross_entropy", at="last", T=20)
    res64 = run(params, problem, labels)
    net32 = dynrnn.RNN(params["W_rec"], params["W_in"], params["b"], W_out=params["W_out"], b_out=params["b_out"],
                       dtype=np.float32)  # fmt: skip
    res32 = dynrnn.bptt(net32, params["x0"], problem["inputs"], labels, loss="cross_entropy", at="last")
    assert res32.grads["W_rec"].dtype == np.float32 and res32.x.dtype == np.float32
    for name in res64.grads:
        np.testing.assert_allclose(res32.grads[name], res64.grads[name], rtol=1e-4, atol=1e-5)


def test_divergence_is_flagged_not_raised():
    net = dynrnn.RNN(np.eye(2) * 1e30, activation="linear")
    res = dynrnn.bptt(net, [1.0, 1.0], None, np.zeros((30, 1, 2)), n_steps=30)
    assert res.diverged
    ok = dynrnn.bptt(dynrnn.RNN(np.eye(2) * 0.5, activation="linear"), [1.0, 1.0], None, np.zeros((3, 1, 2)), n_steps=3)
    assert not ok.diverged


def test_deterministic_and_inputs_untouched(rng):
    params, problem, labels = make_problem(rng, kind="cross_entropy", at="every")
    copies = {k: v.copy() for k, v in params.items()}
    inputs = problem["inputs"].copy()
    first = run(params, problem, labels, contributions="window")
    second = run(params, problem, labels, contributions="window")
    for k in params:
        np.testing.assert_array_equal(params[k], copies[k])
    np.testing.assert_array_equal(problem["inputs"], inputs)
    for name in first.grads:
        np.testing.assert_array_equal(first.grads[name], second.grads[name])
    assert not first.grads["W_rec"].flags.writeable
    assert not first.x.flags.writeable
    with pytest.raises(TypeError):
        first.grads["W_rec"] = 0


def test_grads_feed_clip_grad_norm(rng):
    params, problem, labels = make_problem(rng)
    res = run(params, problem, labels)
    clipped, norm = dynrnn.clip_grad_norm(res.grads, 1e-3)
    assert list(clipped) == list(res.grads)
    total = np.sqrt(sum(np.sum(g**2) for g in res.grads.values()))
    assert norm == pytest.approx(total, rel=1e-12)
    assert np.sqrt(sum(np.sum(g**2) for g in clipped.values())) == pytest.approx(1e-3, rel=1e-12)


def test_contribution_norms_and_repr(rng):
    params, problem, labels = make_problem(rng, at="last", T=6)
    res = run(params, problem, labels)
    norms = res.contribution_norms("W_rec")
    assert norms.shape == (6,)
    np.testing.assert_allclose(norms, [np.linalg.norm(c) for c in res.contributions["W_rec"]], rtol=1e-14)
    assert "GradientResult(" in repr(res) and "W_rec" in repr(res)
    none = run(params, problem, labels, contributions=None)
    assert none.contributions is None
    with pytest.raises(ValueError, match="contributions"):
        none.contribution_norms()
    with pytest.raises(ValueError, match="name"):
        res.contribution_norms("W_out")


# ----------------------------------------------------------------------------- bad input


@pytest.fixture
def small():
    rng = np.random.default_rng(5)
    net = dynrnn.RNN(rng.normal(size=(3, 3)) * 0.3, W_in=rng.normal(size=(3, 2)), W_out=rng.normal(size=(4, 3)))
    return net, rng.normal(size=(5, 2, 2))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"loss": "hinge"}, "loss"),
        ({"at": "first"}, "at"),
        ({"contributions": "all"}, "contributions"),
        ({"targets": np.zeros((4, 2, 3))}, "targets"),
        ({"targets": np.zeros((5, 3, 3))}, "batch sizes"),
        ({"targets": np.zeros((5, 2))}, "targets"),
        ({"x0": np.zeros(4)}, "x0"),
        ({"x0": np.zeros((3, 3))}, "batch sizes"),
        ({"n_steps": 4}, "n_steps"),
        ({"inputs": np.zeros((5, 2, 3))}, "inputs"),
        ({"inputs": np.full((5, 2, 2), np.nan)}, "inputs"),
        ({"targets": np.full((5, 2, 3), np.inf)}, "targets"),
        ({"loss": "cross_entropy", "targets": np.full((5, 2), 4)}, r"\[0, 4\)"),
        ({"loss": "cross_entropy", "targets": np.full((5, 2), -1)}, r"\[0, 4\)"),
        ({"loss": "cross_entropy", "targets": -np.ones((5, 2, 4))}, "non-negative"),
        ({"loss": "readout_squared_error", "targets": np.zeros((5, 2, 3))}, "targets"),
    ],
)
def test_bad_input_value_errors(small, kwargs, match):
    net, inputs = small
    args = {"x0": None, "inputs": inputs, "targets": np.zeros((5, 2, 3)), **kwargs}
    with pytest.raises(ValueError, match=match):
        dynrnn.bptt(net, args.pop("x0"), args.pop("inputs"), args.pop("targets"), **args)


def test_bad_input_other_errors(small):
    net, inputs = small
    targets = np.zeros((5, 2, 3))
    with pytest.raises(TypeError, match="net"):
        dynrnn.bptt("net", None, inputs, targets)
    with pytest.raises(TypeError, match="wrt_x0"):
        dynrnn.bptt(net, None, inputs, targets, wrt_x0=1)
    with pytest.raises(TypeError, match="inputs"):
        dynrnn.bptt(net, None, inputs.astype(complex), targets)
    with pytest.raises(ValueError, match="readout"):
        dynrnn.bptt(dynrnn.RNN(np.eye(3), W_in=np.ones((3, 2))), None, inputs, targets, loss="cross_entropy")
    with pytest.raises(ValueError, match="inputs is required"):
        dynrnn.bptt(net, None, None, targets, n_steps=5)
    with pytest.raises(ValueError, match="n_steps is required"):
        dynrnn.bptt(dynrnn.RNN(np.eye(3)), None, None, targets)
    with pytest.raises(ValueError, match="window"):
        big = dynrnn.RNN(np.eye(40) * 0.1)
        dynrnn.bptt(big, None, None, np.zeros((300, 1, 40)), n_steps=300, contributions="window")
    with pytest.raises(ValueError, match="W_out"):
        dynrnn.RNN(np.eye(3), W_out=np.ones((2, 4)))
    with pytest.raises(ValueError, match="b_out"):
        dynrnn.RNN(np.eye(3), b_out=np.ones(2))
