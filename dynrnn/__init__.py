"""dynrnn: small recurrent networks as dynamical systems.

A toolkit that reproduces and extends Pascanu, Mikolov & Bengio (2013), "On
the difficulty of training recurrent neural networks", with Numba kernels on
the CPU and, through numba.cuda, on NVIDIA GPUs.

Importing dynrnn imports neither CUDA nor matplotlib.
"""

from . import single_unit
from ._backend import BACKENDS
from ._kernels.scalar import ACTIVATIONS, FORMS
from .dynamics.basins import basins
from .dynamics.continuation import continuation, fold_continuation
from .dynamics.fixed_points import fixed_points
from .dynamics.orbits import orbit_diagram, sensitivity
from .maps.activations import Activation, activation, gamma
from .maps.iterate import iterate, iterate_grid
from .maps.model import RNN
from .results import (
    BasinResult,
    BifurcationEvent,
    ContinuationResult,
    FixedPointResult,
    FoldCurveResult,
    OrbitDiagramResult,
    OrbitResult,
    SensitivityResult,
    SingleUnitBifurcations,
    SingleUnitCusp,
    SingleUnitCycles,
    SingleUnitFixedPoints,
    TangentResult,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "FORMS",
    "RNN",
    "Activation",
    "BasinResult",
    "BifurcationEvent",
    "ContinuationResult",
    "FixedPointResult",
    "FoldCurveResult",
    "OrbitDiagramResult",
    "OrbitResult",
    "SensitivityResult",
    "SingleUnitBifurcations",
    "SingleUnitCusp",
    "SingleUnitCycles",
    "SingleUnitFixedPoints",
    "TangentResult",
    "activation",
    "basins",
    "continuation",
    "fixed_points",
    "fold_continuation",
    "gamma",
    "iterate",
    "iterate_grid",
    "orbit_diagram",
    "sensitivity",
    "single_unit",
    "__version__",
]
