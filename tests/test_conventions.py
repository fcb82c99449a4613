"""One vocabulary (issue 13, item 1): every public function and result class follows
the table in ``dynrnn/_conventions.py``, and the README's Conventions section shows it.

The checks are plain functions that return a list of problems, so the test can show
that each of them catches a function written in another dialect.
"""

import dataclasses
import importlib
import importlib.util
import inspect
import pathlib
import re

import numpy as np
import pytest

import dynrnn
from dynrnn import _conventions as conv

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BANNED = {b: name for _, name, banned in conv.NAMES for b in banned}


def _public_modules():
    """(public path, module): the modules a user imports names from."""
    mods = [
        ("dynrnn", dynrnn),
        ("dynrnn.single_unit", dynrnn.single_unit),
        ("dynrnn.tasks", dynrnn.tasks),
        ("dynrnn.optim", dynrnn.optim),
    ]
    if importlib.util.find_spec("dynrnn.testing") is not None and importlib.util.find_spec("hypothesis") is not None:
        mods.append(("dynrnn.testing", importlib.import_module("dynrnn.testing")))
    return mods


def _walk():
    """(qualified name, object) for every public callable, class and method."""
    seen = set()
    for label, mod in _public_modules():
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or id(obj) in seen or not callable(obj):
                continue
            seen.add(id(obj))
            qual = f"{label}.{name}"
            yield qual, obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    if inspect.isfunction(member):
                        yield f"{qual}.{attr}", member


def _functions():
    return [(q, f) for q, f in _walk() if not inspect.isclass(f)]


def _classes():
    return [(q, c) for q, c in _walk() if inspect.isclass(c)]


def _params(func):
    return [p for p in inspect.signature(func).parameters.values() if p.name not in ("self", "cls")]


def _owner(qual):
    return qual.split(".")[-2] if qual.count(".") >= 2 and qual.split(".")[-2][:1].isupper() else qual.split(".")[-1]


# ----------------------------------------------------------------------------- checks


def name_problems(qual, names):
    """Banned synonyms, ``num_`` counts and names outside their allowed functions."""
    owner, short = _owner(qual), qual.split(".")[-1]
    problems = []
    for n in names:
        allowed_in = conv.RESTRICTED.get(n)
        if allowed_in is not None:
            if short not in allowed_in:
                problems.append(f"{qual}: {n!r} is allowed only in {allowed_in} (use {BANNED.get(n, '?')!r})")
            continue
        if n in BANNED and (owner, n) not in conv.BANNED_EXCEPTIONS:
            problems.append(f"{qual}: {n!r} should be {BANNED[n]!r}")
        if n.startswith("num_"):
            problems.append(f"{qual}: {n!r} should be 'n_{n[4:]}'")
    return problems


def positional_problems(qual, func):
    """Positional parameters must come from `POSITIONAL`, in its order; no ``*args``."""
    problems, last = [], -1
    for p in _params(func):
        if p.kind is p.VAR_POSITIONAL:
            problems.append(f"{qual}: *{p.name} is not allowed")
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        if p.name not in conv.POSITIONAL:
            problems.append(f"{qual}: {p.name!r} must be keyword-only")
            continue
        rank = conv.POSITIONAL.index(p.name)
        if rank < last:
            problems.append(f"{qual}: {p.name!r} comes before {conv.POSITIONAL[last]!r} in the positional order")
        last = max(last, rank)
    return problems


def default_problems(qual, func):
    """One default per option: activation, dtype, backend, nonfinite."""
    params = {p.name: p for p in _params(func)}
    problems = []
    for name, want in conv.DEFAULTS.items():
        p = params.get(name)
        if p is None or p.default is p.empty:
            continue
        got = p.default
        if name == "dtype":
            ok = (got is None and "net" in params) or (got is not None and np.dtype(got) == np.dtype(want))
        else:
            ok = got == want
        if not ok:
            problems.append(f"{qual}: default {name}={got!r}, the convention is {want!r}")
    p = params.get("nonfinite")
    if p is not None and p.default is not p.empty and p.default is not None and p.default not in conv.NONFINITE:
        problems.append(f"{qual}: default nonfinite={p.default!r} is not one of {tuple(conv.NONFINITE)}")
    doc = inspect.getdoc(func) or ""
    for m in re.finditer(r"^nonfinite : \{([^}]*)\}", doc, re.M):
        choices = set(re.findall(r'"([^"]+)"', m.group(1)))
        if not choices <= set(conv.NONFINITE):
            problems.append(f"{qual}: nonfinite choices {sorted(choices - set(conv.NONFINITE))} are not in the one set")
    return problems


def class_problems(qual, cls):
    """Field and property names, and the type of ``status``."""
    names = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
    names += [k for k, v in vars(cls).items() if isinstance(v, property)]
    problems = name_problems(qual + ".<field>", [n for n in names if not n.startswith("_")])
    problems = [p.replace(".<field>", "", 1) for p in problems]
    if "status" in names:
        hints = {f.name: f.type for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
        hint = hints.get("status")
        if hint not in conv.STATUS_TYPES and getattr(hint, "__name__", hint) not in ("str", "ndarray", "np.ndarray"):
            problems.append(f"{qual}: status is {hint!r}, the convention is str or an array of str")
        statuses = getattr(cls, "STATUSES", None)
        if not (isinstance(statuses, tuple) and statuses and all(isinstance(s, str) for s in statuses)):
            problems.append(f"{qual}: a class with a status lists its values in STATUSES (a tuple of str)")
    return problems


# ----------------------------------------------------------------------------- the public API


def test_walk_covers_the_public_api():
    quals = {q for q, _ in _walk()}
    assert {"dynrnn.iterate", "dynrnn.train", "dynrnn.single_unit.fold_curve", "dynrnn.tasks.addition"} <= quals
    assert {"dynrnn.FixedPointResult", "dynrnn.TrainResult", "dynrnn.optim.StepInfo"} <= quals
    assert len(quals) > 80


@pytest.mark.parametrize(("qual", "func"), _functions(), ids=[q for q, _ in _functions()])
def test_function_follows_the_table(qual, func):
    problems = name_problems(qual, [p.name for p in _params(func)])
    problems += positional_problems(qual, func)
    problems += default_problems(qual, func)
    assert problems == []


@pytest.mark.parametrize(("qual", "cls"), _classes(), ids=[q for q, _ in _classes()])
def test_class_follows_the_table(qual, cls):
    assert class_problems(qual, cls) == []


def test_net_x0_inputs_come_first_in_that_order():
    for qual, func in _functions():
        names = [p.name for p in _params(func) if p.kind is p.POSITIONAL_OR_KEYWORD]
        if "net" in names and "x0" in names:
            assert names.index("net") < names.index("x0"), qual
            if "inputs" in names:
                assert names.index("x0") + 1 == names.index("inputs"), qual


def test_nonfinite_policies_are_one_set():
    """Every public ``nonfinite`` is a subset of the one set (checked on the functions themselves)."""
    for qual, func in _functions():
        if "nonfinite" in inspect.signature(func).parameters:
            assert re.search(r"^nonfinite : \{", inspect.getdoc(func) or "", re.M), (
                f"{qual} documents its nonfinite choices"
            )
    with pytest.raises(ValueError, match="nonfinite"):
        dynrnn.clip_grad_norm({"W_rec": np.ones((2, 2))}, 1.0, nonfinite="ignore")


def test_rng_accepts_a_seed_or_a_generator():
    from dynrnn import _validate

    a = _validate.rng("rng", 3).random(4)
    g = np.random.default_rng(3)
    assert _validate.rng("rng", g) is g
    np.testing.assert_array_equal(a, np.random.default_rng(3).random(4))
    with pytest.raises(TypeError, match="rng"):
        _validate.rng("rng", 1.5)
    with pytest.raises(ValueError, match="rng"):
        _validate.rng("rng", -1)


# ----------------------------------------------------------------------------- the README


def _readme_section():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"^## Conventions\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "README.md has a '## Conventions' section"
    return m.group(1)


def test_readme_shows_the_table():
    section = _readme_section()
    assert conv.markdown() in section, "README's Conventions table differs from dynrnn._conventions.markdown()"


def test_readme_states_the_order_defaults_and_policies():
    section = _readme_section()
    assert "`" + ", ".join(conv.POSITIONAL) + "`" in section
    for name, value in conv.DEFAULTS.items():
        shown = "numpy.float64" if name == "dtype" else repr(value).replace("'", '"')
        assert f"`{name}={shown}`" in section, name
    for policy in conv.NONFINITE:
        assert f'`"{policy}"`' in section, policy


# ----------------------------------------------------------------------------- the checks can fail


def _dialect(net, x0, n_steps, inputs, seed=None, *, activation="logistic", dtype=np.float32, nonfinite="nan"):
    """nonfinite : {"nan", "raise"}"""


@dataclasses.dataclass(frozen=True)
class _DialectResult:
    eigvals: np.ndarray
    resolved: bool
    status: tuple
    grad_norm_: float
    norm: float
    stop_reason: str

    @property
    def finite(self):
        return True


def test_checks_catch_another_dialect():
    problems = name_problems("x._dialect", [p.name for p in _params(_dialect)])
    problems += positional_problems("x._dialect", _dialect)
    problems += default_problems("x._dialect", _dialect)
    text = "\n".join(problems)
    for expected in (
        "'seed' is allowed only in",
        "'n_steps' must be keyword-only",
        "default activation='logistic'",
        "default dtype=<class 'numpy.float32'>",
        "default nonfinite='nan'",
        "['nan'] are not in the one set",
    ):
        assert expected in text
    problems = "\n".join(class_problems("x._DialectResult", _DialectResult))
    for expected in (
        "'eigvals' should be 'multipliers'",
        "'resolved' should be 'converged'",
        "'norm' should be",
        "'stop_reason' should be 'status'",
        "'finite' should be 'diverged'",
        "status is",
        "STATUSES",
    ):
        assert expected in problems


def test_positional_order_is_checked():
    def swapped(net, inputs, x0):
        pass

    def n_steps_first(net, x0, n_steps, inputs):
        pass

    assert positional_problems("x.swapped", swapped) == [
        "x.swapped: 'x0' comes before 'inputs' in the positional order"
    ]
    assert positional_problems("x.n", n_steps_first) == ["x.n: 'n_steps' must be keyword-only"]


# ----------------------------------------------------------------------------- the CLI


def _cli_options(command):
    from dynrnn import cli

    parser = cli._build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return [a for a in sub.choices[command]._actions if a.option_strings]


@pytest.mark.parametrize(("command", "func"), [("train", dynrnn.train), ("sweep", dynrnn.sweep)])
def test_cli_options_are_the_keywords(command, func):
    keywords = set(inspect.signature(func).parameters)
    for action in _cli_options(command):
        long = [o for o in action.option_strings if o.startswith("--")]
        assert long, f"dynrnn {command} {action.option_strings}: give it a long name"
        name = long[0][2:].replace("-", "_")
        assert name == action.dest, f"dynrnn {command} {long[0]} stores into {action.dest!r}"
        if name in conv.CLI_ONLY:
            continue
        keyword = name if name in keywords else name + "s"
        assert keyword in keywords, f"dynrnn {command} {long[0]} is not a keyword of {func.__name__}"
        assert name_problems(f"dynrnn.{command}", [keyword]) == []


def test_calls_in_the_old_dialect_fail_loudly():
    """No aliases: a call written against the old names raises, naming what is wrong."""
    net = dynrnn.RNN([[0.5]])
    old_calls = [
        (lambda: dynrnn.iterate(net, [1.0], 5), ValueError, "inputs"),  # was iterate(net, x0, n_steps)
        (lambda: dynrnn.jacobian_products(net, [1.0], None, 5), TypeError, "positional"),
        (lambda: dynrnn.fixed_points(net, seed=1), TypeError, "seed"),
        (lambda: dynrnn.single_unit.fold_points(5.0, "logistic"), TypeError, "positional"),
        (lambda: dynrnn.tasks.addition(2, 20, 0), TypeError, "positional"),
        (lambda: dynrnn.FixedPointResult.eigvals, AttributeError, "eigvals"),
    ]
    for call, error, match in old_calls:
        with pytest.raises(error, match=match):
            call()
