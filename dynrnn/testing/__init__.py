r"""Property-test your own networks against the laws of Pascanu, Mikolov & Bengio (2013).

Hypothesis strategies draw networks, initial states, input sequences, trajectories and BPTT
problems; assertion helpers check the paper's laws on them and raise AssertionError with the
numbers, the step and the bound when a law fails:

- `assert_jacobian_bound`: ``||dx_t/dx_k||_2 <= (gamma ||W_rec||_2)^(t - k)`` (eqs. 5-7);
- `assert_vanishing`: below ``||W_rec||_2 = 1/gamma`` the products vanish geometrically (eqs. 6-7);
- `assert_contributions_sum_to_gradient`: the temporal contributions of eq. (4) add up to the
  gradient of eq. (3);
- `assert_gradient_matches_finite_differences` (a `dynrnn.bptt` loss) and
  `assert_matches_finite_differences` (any scalar function): gradients against central
  differences, with a stated tolerance.

This module imports hypothesis; ``import dynrnn`` does not import it.  The first call of a dynrnn
function in a process compiles or loads its kernels, so give your property tests
``@settings(deadline=None)``.

Examples
--------
>>> import numpy as np, dynrnn
>>> from hypothesis import given, settings
>>> from dynrnn.testing import assert_jacobian_bound, trajectories
>>> net = dynrnn.RNN(W_rec=[[0.0, 1.2], [-0.8, 0.3]], W_in=[[1.0], [0.0]], activation="tanh")
>>> @given(trajectories(net, n_steps=(1, 20)))
... @settings(deadline=None)  # the first example compiles (or loads) dynrnn's kernels
... def test_my_network_obeys_the_bound(trajectory):
...     assert_jacobian_bound(*trajectory)
>>> test_my_network_obeys_the_bound()
"""

from ._laws import (
    assert_contributions_sum_to_gradient,
    assert_gradient_matches_finite_differences,
    assert_jacobian_bound,
    assert_matches_finite_differences,
    assert_vanishing,
    step_norm_bound,
)
from ._strategies import (
    GradientProblem,
    Trajectory,
    activations,
    forms,
    gradient_problems,
    input_sequences,
    leaks,
    networks,
    recurrent_weights,
    states,
    trajectories,
)

__all__ = [
    "GradientProblem",
    "Trajectory",
    "activations",
    "assert_contributions_sum_to_gradient",
    "assert_gradient_matches_finite_differences",
    "assert_jacobian_bound",
    "assert_matches_finite_differences",
    "assert_vanishing",
    "forms",
    "gradient_problems",
    "input_sequences",
    "leaks",
    "networks",
    "recurrent_weights",
    "states",
    "step_norm_bound",
    "trajectories",
]
