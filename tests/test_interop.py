"""Networks imported from PyTorch and exported to it (issue 12, items 4 and 6): `dynrnn.from_torch`, `dynrnn.to_torch`.

The mapping path (a ``state_dict`` of NumPy arrays) is tested without torch; the module path, the
forward passes and the gradients against torch's autograd (float64, to 1e-10) only where torch is
installed.  The README's "Analyse your own trained network" example runs here too.
"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn

README = Path(__file__).resolve().parent.parent / "README.md"
TIGHT = {"rtol": 1e-10, "atol": 1e-12}  # dynrnn vs torch in float64, short horizons (sums in another order)
KINDS = ("rnn_tanh", "rnn_relu", "gru", "lstm")
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}
PARAMS = {dynrnn.RNN: ("W_rec", "W_in", "b", "W_out", "b_out"), dynrnn.GRU: ("W_ih", "W_hh", "b_ih", "b_hh")}
PARAMS[dynrnn.LSTM] = PARAMS[dynrnn.GRU]


def state_dict(rng, kind, n=3, m=2, bias=True, suffix="_l0"):
    """A one-layer state_dict of NumPy arrays, as ``{k: v.numpy() for k, v in module.state_dict().items()}``."""
    rows = GATES[kind] * n
    state = {f"weight_ih{suffix}": rng.normal(size=(rows, m)), f"weight_hh{suffix}": rng.normal(size=(rows, n))}
    if bias:
        state.update({f"bias_ih{suffix}": rng.normal(size=rows), f"bias_hh{suffix}": rng.normal(size=rows)})
    return state


def assert_same_network(a, b):
    assert type(a) is type(b) and a.dtype == b.dtype
    if isinstance(a, dynrnn.RNN):
        assert (a.activation, a.form, a.leak) == (b.activation, b.form, b.leak)
    for name in PARAMS[type(a)] + ("W_out", "b_out"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert_array_equal(x, y, err_msg=name)


# ----------------------------------------------------------------------------- a mapping, without torch


@pytest.mark.parametrize("kind", KINDS)
def test_a_state_dict_goes_in_as_it_is(kind, rng):
    state = state_dict(rng, kind)
    given = {k: v.copy() for k, v in state.items()}
    readout = {"weight": rng.normal(size=(2, 3)), "bias": rng.normal(size=2)}
    net = dynrnn.from_torch(state, readout=readout, kind=kind)
    if kind.startswith("rnn"):
        assert isinstance(net, dynrnn.RNN) and net.form == "standard" and net.activation == kind[4:]
        assert_array_equal(net.W_rec, state["weight_hh_l0"])
        assert_array_equal(net.W_in, state["weight_ih_l0"])
        assert_array_equal(net.b, state["bias_ih_l0"] + state["bias_hh_l0"])
    else:
        expected = (dynrnn.GRU if kind == "gru" else dynrnn.LSTM)(
            W_ih=state["weight_ih_l0"], W_hh=state["weight_hh_l0"], b_ih=state["bias_ih_l0"], b_hh=state["bias_hh_l0"],
            W_out=readout["weight"], b_out=readout["bias"],
        )  # fmt: skip
        assert_same_network(net, expected)
        assert_same_network(dynrnn.from_torch(state, readout=readout), expected)  # the cell read from the rows
    assert_array_equal(net.W_out, readout["weight"])
    assert_array_equal(net.b_out, readout["bias"])
    for key, value in state.items():  # the caller's arrays: unchanged, writable, not shared
        assert_array_equal(value, given[key])
        assert value.flags.writeable
        assert not any(
            np.shares_memory(value, getattr(net, p)) for p in PARAMS[type(net)] if getattr(net, p) is not None
        )


@pytest.mark.parametrize("kind", KINDS)
def test_without_biases_and_from_a_cell(kind, rng):
    """bias=False (no bias keys) gives zero biases; a cell's keys (weight_hh, ...) read the same as a layer's."""
    net = dynrnn.from_torch(state_dict(rng, kind, bias=False), kind=kind)
    for name in ("b",) if kind.startswith("rnn") else ("b_ih", "b_hh"):
        assert_array_equal(getattr(net, name), 0.0)
    layer = state_dict(rng, kind)
    cell = {key[:-3]: value for key, value in layer.items()}
    assert_same_network(dynrnn.from_torch(cell, kind=kind), dynrnn.from_torch(layer, kind=kind))


def test_float32_npz_and_readout_without_bias(rng, tmp_path):
    state = {k: v.astype(np.float32) for k, v in state_dict(rng, "lstm", n=2, m=1).items()}
    np.savez(tmp_path / "lstm.npz", **state)
    with np.load(tmp_path / "lstm.npz") as loaded:
        net = dynrnn.from_torch(loaded, readout={"weight": np.ones((1, 2), np.float32)})
    assert isinstance(net, dynrnn.LSTM) and net.dtype == np.float64
    assert_array_equal(net.W_hh, state["weight_hh_l0"].astype(np.float64))  # float32 widens exactly
    assert_array_equal(net.b_out, [0.0])
    net32 = dynrnn.from_torch(state, dtype=np.float32)
    assert net32.dtype == np.float32 and net32.W_ih.dtype == np.float32


def _bad_mapping_cases():
    rng = np.random.default_rng(0)
    gru = state_dict(rng, "gru")
    rnn = state_dict(rng, "rnn_tanh")
    complex_ = dict(gru, weight_hh_l0=gru["weight_hh_l0"] + 1j)
    nan = dict(gru, bias_hh_l0=np.where(np.arange(9) == 4, np.nan, 1.0))
    without = lambda d, key: {k: v for k, v in d.items() if k != key}  # noqa: E731
    cases = [
        ("several layers", dict(gru, weight_ih_l1=gru["weight_ih_l0"]), {}, ValueError, r"'weight_ih_l1'.*one-layer"),
        ("bidirectional", dict(gru, weight_hh_l0_reverse=gru["weight_hh_l0"]), {}, ValueError, "bidirectional"),
        ("proj_size", dict(gru, weight_hr_l0=np.ones((3, 2))), {}, ValueError, r"'weight_hr_l0'.*proj_size"),
        (
            "readout keys inside",
            dict(gru, weight=np.ones((1, 3))),
            {},
            ValueError,
            r"unexpected keys \['weight'\].*readout=",
        ),
        (
            "a prefixed state_dict",
            {"rnn." + k: v for k, v in gru.items()},
            {},
            ValueError,
            r"unexpected keys \['rnn\.weight",
        ),
        ("mixed keys", dict(without(gru, "weight_ih_l0"), weight_ih=gru["weight_ih_l0"]), {}, ValueError, "mixes"),
        ("missing weight_hh", without(gru, "weight_hh_l0"), {}, ValueError, r"no 'weight_hh_l0'.*\(n, n\), \(3n, n\)"),
        (
            "missing weight_hh, kind",
            without(gru, "weight_hh_l0"),
            {"kind": "gru"},
            ValueError,
            r"'weight_hh_l0'.*\(3n, n\)",
        ),
        ("missing weight_ih", without(gru, "weight_ih_l0"), {}, ValueError, r"no 'weight_ih_l0'.*\(9, m\)"),
        ("one bias", without(gru, "bias_hh_l0"), {}, ValueError, r"'bias_ih_l0' but no 'bias_hh_l0' \(shape \(9,\)\)"),
        (
            "misshaped weight_hh",
            dict(gru, weight_hh_l0=np.ones((9, 2))),
            {},
            ValueError,
            r"'weight_hh_l0'\] must have shape",
        ),
        (
            "weight_hh vs kind",
            gru,
            {"kind": "lstm"},
            ValueError,
            r"'weight_hh_l0'\] must have shape \(4n, n\).*\(9, 3\)",
        ),
        (
            "misshaped weight_ih",
            dict(gru, weight_ih_l0=np.ones((6, 2))),
            {},
            ValueError,
            r"'weight_ih_l0'\] must have shape \(9, m\)",
        ),
        ("misshaped bias", dict(gru, bias_ih_l0=np.ones(6)), {}, ValueError, r"'bias_ih_l0'\] must have shape \(9,\)"),
        ("an RNN without kind", rnn, {}, ValueError, "kind='rnn_tanh'"),
        ("unknown kind", gru, {"kind": "rnn_sigmoid"}, ValueError, "kind"),
        ("complex", complex_, {}, TypeError, r"'weight_hh_l0'.*complex"),
        ("nan", nan, {}, ValueError, r"'bias_hh_l0'\] must be finite"),
        ("text", dict(gru, bias_ih_l0="zeros"), {}, TypeError, "'bias_ih_l0'"),
        (
            "too big for float32",
            dict(gru, bias_ih_l0=np.full(9, 1e39)),
            {"dtype": np.float32},
            ValueError,
            r"'bias_ih_l0'.*float32",
        ),
        ("dtype", gru, {"dtype": np.int64}, ValueError, "dtype"),
        (
            "readout width",
            gru,
            {"readout": {"weight": np.ones((2, 4))}},
            ValueError,
            r"readout\['weight'\] must have shape \(q, 3\)",
        ),
        (
            "readout bias",
            gru,
            {"readout": {"weight": np.ones((2, 3)), "bias": np.ones(3)}},
            ValueError,
            r"readout\['bias'\].*\(2,\)",
        ),
        ("readout without weight", gru, {"readout": {"bias": np.ones(3)}}, ValueError, "readout has no 'weight'"),
        (
            "readout keys",
            gru,
            {"readout": {"weight": np.ones((2, 3)), "W_out": 1}},
            ValueError,
            "readout has unexpected keys",
        ),
        (
            "readout nan",
            gru,
            {"readout": {"weight": np.full((2, 3), np.inf)}},
            ValueError,
            r"readout\['weight'\] must be finite",
        ),
        (
            "readout array",
            gru,
            {"readout": np.ones((2, 3))},
            TypeError,
            r"readout must be a torch\.nn\.Linear or a mapping",
        ),
        ("a list", [gru["weight_hh_l0"]], {}, TypeError, r"module must be a torch\.nn\.RNN, GRU or LSTM"),
        ("a dynrnn net", dynrnn.GRU(W_hh=gru["weight_hh_l0"]), {}, TypeError, "already a dynrnn network"),
    ]
    return cases


@pytest.mark.parametrize(("module", "kwargs", "exc", "match"), [c[1:] for c in _bad_mapping_cases()],
                         ids=[c[0] for c in _bad_mapping_cases()])  # fmt: skip
def test_bad_mapping_is_refused_naming_the_key(module, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dynrnn.from_torch(module, **kwargs)


@pytest.mark.parametrize(
    ("net", "exc", "match"),
    [
        ("a module", TypeError, r"net must be a dynrnn\.RNN, GRU or LSTM"),
        (dynrnn.RNN([[0.5]], W_in=[[1.0]], activation="logistic"), ValueError, "activation must be 'tanh' or 'relu'"),
        (dynrnn.RNN([[0.5]], W_in=[[1.0]], leak=0.5), ValueError, "leak"),
        (dynrnn.GRU(W_hh=np.zeros((3, 1))), ValueError, r"no input \(n_inputs = 0\)"),
    ],
    ids=["not a net", "logistic", "leak", "autonomous"],
)  # fmt: skip
def test_to_torch_refuses_what_torch_cannot_hold(net, exc, match):
    """Checked before torch is imported, so these run without it."""
    with pytest.raises(exc, match=match):
        dynrnn.to_torch(net)


def test_neither_import_dynrnn_nor_a_mapping_imports_torch():
    code = (
        "import sys, numpy as np, dynrnn; assert 'torch' not in sys.modules, 'import dynrnn'; "
        "dynrnn.from_torch({'weight_ih_l0': np.ones((3, 1)), 'weight_hh_l0': np.ones((3, 1))}, "
        "readout={'weight': np.ones((1, 1))}); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ----------------------------------------------------------------------------- against torch


def _torch_pair(kind, n, m, q, seed, **options):
    """A float64 torch module and nn.Linear readout, and the dynrnn network from_torch makes of them."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    nn = torch.nn
    if kind.startswith("rnn"):
        module = nn.RNN(m, n, nonlinearity=kind[4:], dtype=torch.float64, **options)
    else:
        module = (nn.GRU if kind == "gru" else nn.LSTM)(m, n, dtype=torch.float64, **options)
    readout = nn.Linear(n, q, dtype=torch.float64)
    return torch, module, readout, dynrnn.from_torch(module, readout=readout)


def _hidden(torch, kind, x0, n):
    """torch's initial hidden state from dynrnn's x0 of shape (B, state_size)."""
    h0 = x0[None, :, :n].contiguous()
    return (h0, x0[None, :, n:].contiguous()) if kind == "lstm" else h0


@pytest.mark.parametrize("kind", KINDS)
def test_outputs_match_torch(kind, rng):
    n, m, q, T = 4, 3, 2, 15
    torch, module, readout, net = _torch_pair(kind, n, m, q, seed=1)
    assert net.n_units == n and net.n_inputs == m and net.n_outputs == q
    x0 = rng.uniform(-1, 1, getattr(net, "state_size", n))
    inputs = rng.normal(size=(T, m))
    with torch.no_grad():
        out, last = module(torch.tensor(inputs)[:, None], _hidden(torch, kind, torch.tensor(x0)[None], n))
        y = readout(out)
    x = dynrnn.iterate(net, x0, inputs)
    assert_allclose(x[1:, :n], out[:, 0].numpy(), **TIGHT)
    if kind == "lstm":
        assert_allclose(x[-1, n:], last[1][0, 0].numpy(), **TIGHT)
    assert_allclose(x[1:, :n] @ net.W_out.T + net.b_out, y[:, 0].numpy(), **TIGHT)
    res = dynrnn.bptt(net, x0, inputs[:, None], np.zeros((T, 1, q)), loss="readout_squared_error", contributions=None)
    assert_allclose(res.outputs[:, 0], y[:, 0].numpy(), **TIGHT)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_torch_autograd(kind, rng):
    """Every parameter gradient (readout and x0 included) of three losses, against torch's .backward()."""
    n, m, q, B, T = 3, 2, 4, 3, 8
    torch, module, readout, net = _torch_pair(kind, n, m, q, seed=2)
    x0 = rng.uniform(-1, 1, size=(B, getattr(net, "state_size", n)))
    inputs = rng.normal(size=(T, B, m))
    targets = {
        "squared_error": rng.normal(size=(T, B, n)),
        "readout_squared_error": rng.normal(size=(T, B, q)),
        "cross_entropy": rng.integers(0, q, size=B),
    }
    names = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
    if kind.startswith("rnn"):  # d/db is the gradient of each of torch's two biases
        names = {"W_in": ("weight_ih_l0",), "W_rec": ("weight_hh_l0",), "b": ("bias_ih_l0", "bias_hh_l0")}
    for loss, at in (("squared_error", "every"), ("readout_squared_error", "every"), ("cross_entropy", "last")):
        module.zero_grad()
        readout.zero_grad()
        tx0 = torch.tensor(x0, requires_grad=True)
        H = module(torch.tensor(inputs), _hidden(torch, kind, tx0, n))[0]
        P = torch.tensor(targets[loss])
        if loss == "squared_error":
            value = ((H - P) ** 2).sum() / B
        elif loss == "readout_squared_error":
            value = ((readout(H) - P) ** 2).sum() / B
        else:
            value = torch.nn.functional.cross_entropy(readout(H[-1]), P)
        value.backward()
        res = dynrnn.bptt(net, x0, inputs, targets[loss], loss=loss, at=at, wrt_x0=True, contributions=None)
        assert_allclose(res.loss, value.item(), **TIGHT)
        for ours, theirs in names.items():
            for name in (theirs,) if isinstance(theirs, str) else theirs:
                assert_allclose(res.grads[ours], getattr(module, name).grad.numpy(), **TIGHT, err_msg=f"{loss} {name}")
        assert_allclose(res.grads["x0"], tx0.grad.numpy(), **TIGHT, err_msg=loss)
        if loss != "squared_error":
            assert_allclose(res.grads["W_out"], readout.weight.grad.numpy(), **TIGHT, err_msg=loss)
            assert_allclose(res.grads["b_out"], readout.bias.grad.numpy(), **TIGHT, err_msg=loss)


@pytest.mark.parametrize("kind", KINDS)
def test_a_module_its_state_dict_and_its_tensors_give_one_network(kind):
    torch, module, readout, net = _torch_pair(kind, 3, 2, 1, seed=3)
    given = {k: v.clone() for k, v in module.state_dict().items()}
    numpy_state = {k: v.numpy() for k, v in module.state_dict().items()}
    readout_state = {k: v.numpy() for k, v in readout.state_dict().items()}
    assert_same_network(dynrnn.from_torch(numpy_state, readout=readout_state, kind=kind), net)
    assert_same_network(dynrnn.from_torch(module.state_dict(), readout=readout.state_dict(), kind=kind), net)
    assert_same_network(dynrnn.from_torch(module, readout=readout, kind=kind), net)
    for key, value in module.state_dict().items():
        assert torch.equal(value, given[key]), key
        assert not np.shares_memory(value.numpy(), net.W_out)
    for name in PARAMS[type(net)][:2]:
        assert not np.shares_memory(getattr(net, name), numpy_state["weight_hh_l0"])


@pytest.mark.parametrize("kind", KINDS)
def test_float32_modules_cells_bias_false_and_batch_first(kind, rng):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(4)
    options = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
    layer = {"rnn_tanh": nn.RNN, "rnn_relu": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
    cell = {"rnn_tanh": nn.RNNCell, "rnn_relu": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}[kind]
    module = layer(2, 3, **options)  # float32, torch's default
    net = dynrnn.from_torch(module)
    assert net.dtype == np.float64
    assert_array_equal(net.W_in if kind.startswith("rnn") else net.W_ih, module.weight_ih_l0.detach().double().numpy())
    assert dynrnn.from_torch(module, dtype=np.float32).dtype == np.float32
    first = layer(2, 3, batch_first=True, **options)
    first.load_state_dict(module.state_dict())
    assert_same_network(dynrnn.from_torch(first), net)  # batch_first does not touch the parameters
    no_bias = dynrnn.from_torch(layer(2, 3, bias=False, **options))
    for name in ("b",) if kind.startswith("rnn") else ("b_ih", "b_hh"):
        assert_array_equal(getattr(no_bias, name), 0.0)
    one = cell(2, 3, dtype=torch.float64, **options)
    x0, u = rng.uniform(-1, 1, 6 if kind == "lstm" else 3), rng.normal(size=(1, 2))
    with torch.no_grad():
        h0 = torch.tensor(x0)[None]
        out = one(torch.tensor(u), (h0[:, :3], h0[:, 3:]) if kind == "lstm" else h0)
        out = torch.cat(out, dim=1) if kind == "lstm" else out
    assert_allclose(dynrnn.iterate(dynrnn.from_torch(one), x0, u)[1], out[0].numpy(), **TIGHT)


def _bad_module_cases():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with torch.random.fork_rng(devices=[]):
        gru = nn.GRU(2, 3)
        nan_gru = nn.GRU(2, 3)
        with torch.no_grad():
            nan_gru.weight_hh_l0[1, 1] = float("nan")
        complex_state = {k: v.to(torch.complex64) for k, v in gru.state_dict().items()}
        return [
            ("num_layers", nn.GRU(2, 3, num_layers=2), {}, ValueError, "num_layers=2"),
            ("bidirectional", nn.LSTM(2, 3, bidirectional=True), {}, ValueError, "bidirectional"),
            ("proj_size", nn.LSTM(2, 3, proj_size=2), {}, ValueError, "proj_size=2"),
            ("another module", nn.Linear(2, 3), {}, TypeError, "got Linear, which is not supported"),
            ("a container", nn.Sequential(gru), {}, TypeError, "got Sequential"),
            ("kind disagrees", gru, {"kind": "lstm"}, ValueError, "kind='lstm' disagrees"),
            ("readout not Linear", gru, {"readout": nn.Sequential(nn.Linear(3, 1))}, TypeError, "readout must be"),
            ("readout width", gru, {"readout": nn.Linear(4, 1)}, ValueError, r"readout\.weight .*\(q, 3\)"),
            ("nan", nan_gru, {}, ValueError, r"module\.weight_hh_l0 must be finite"),
            ("complex tensors", complex_state, {}, TypeError, r"module\['weight_ih_l0'\].*complex"),
        ]  # fmt: skip


def test_bad_modules_are_refused_naming_what_is_unsupported():
    for _name, module, kwargs, exc, match in _bad_module_cases():
        with pytest.raises(exc, match=match):
            dynrnn.from_torch(module, **kwargs)


@pytest.mark.parametrize(
    "net",
    [
        dynrnn.RNN([[0.5, -0.3], [0.2, 0.1]], W_in=[[1.0], [0.5]], b=[0.1, 0.2], form="standard", W_out=[[1.0, 2.0]]),
        dynrnn.RNN([[0.5, -0.3], [0.2, 0.1]], W_in=[[1.0], [0.5]], activation="relu", form="standard"),
        dynrnn.GRU(W_hh=np.arange(12.0).reshape(6, 2) / 10, W_ih=np.ones((6, 1)), b_hh=np.ones(6), W_out=[[1.0, 0.0]]),
        dynrnn.LSTM(W_hh=np.arange(16.0).reshape(8, 2) / 10, W_ih=np.ones((8, 3)), b_ih=-np.ones(8), dtype=np.float32),
    ],
    ids=["rnn_tanh", "rnn_relu", "gru", "lstm float32"],
)  # fmt: skip
def test_round_trip(net):
    torch = pytest.importorskip("torch")
    before = torch.random.get_rng_state()
    module, readout = dynrnn.to_torch(net)
    assert torch.equal(torch.random.get_rng_state(), before), "to_torch drew from torch's generator"
    assert (readout is None) == (net.W_out is None)
    assert module.weight_hh_l0.dtype == (torch.float64 if net.dtype == np.float64 else torch.float32)
    assert_same_network(dynrnn.from_torch(module, readout=readout, dtype=net.dtype), net)


def test_to_torch_of_a_paper_form_rnn_is_the_same_system(rng):
    """The paper form x_t is seen by torch as h_t = sigma(x_t) (footnote 1), from h_0 = sigma(x_0)."""
    torch = pytest.importorskip("torch")
    net = dynrnn.RNN(rng.normal(size=(3, 3)), W_in=rng.normal(size=(3, 2)), b=rng.normal(size=3), form="paper")
    module, _ = dynrnn.to_torch(net)
    x0, inputs = rng.normal(size=3), rng.normal(size=(6, 2))
    with torch.no_grad():
        out, _ = module(torch.tensor(inputs)[:, None], torch.tanh(torch.tensor(x0))[None, None])
    assert_allclose(np.tanh(dynrnn.iterate(net, x0, inputs)[1:]), out[:, 0].numpy(), **TIGHT)
    back = dynrnn.from_torch(module)
    assert back.form == "standard"
    assert_array_equal(back.W_rec, net.W_rec)
    assert_array_equal(back.b, net.b)


# ----------------------------------------------------------------------------- the README


def readme_blocks():
    """The Python blocks of the README's "Analyse your own trained network" section: with torch, then without."""
    section = README.read_text(encoding="utf-8").split("\n## Analyse your own trained network\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    return blocks


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    with_torch, without_torch = readme_blocks()
    exec(compile(with_torch, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "stable" in printed and printed.count("\n") >= 3
    assert (tmp_path / "gru.npz").exists() and (tmp_path / "readout.npz").exists()
    namespace = {}
    exec(compile(without_torch, "README.md", "exec"), namespace)
    assert isinstance(namespace["net"], dynrnn.GRU) and namespace["net"].n_outputs == 1


def test_readme_state_dict_example_runs_without_torch(tmp_path, monkeypatch, rng):
    """The second block needs no torch: here its files are written by NumPy alone."""
    monkeypatch.chdir(tmp_path)
    np.savez("gru.npz", **state_dict(rng, "gru", n=8, m=1))
    np.savez("readout.npz", weight=rng.normal(size=(1, 8)), bias=rng.normal(size=1))
    namespace = {}
    exec(compile(readme_blocks()[1], "README.md", "exec"), namespace)
    assert isinstance(namespace["net"], dynrnn.GRU) and namespace["net"].n_units == 8
