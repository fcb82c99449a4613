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
from .dynamics.homotopy import path_bifurcations
from .dynamics.lyapunov import lyapunov_spectrum
from .dynamics.orbits import orbit_diagram, sensitivity
from .gradients.bptt import bptt
from .gradients.clipping import clip_grad_norm, clip_grad_value
from .gradients.descent import descend
from .gradients.error_surface import error_surface, error_surface_wall
from .gradients.jacobians import jacobian_products
from .gradients.regularizer import vanishing_regularizer
from .interop import from_torch, to_torch
from .maps.activations import Activation, activation, gamma
from .maps.gated import GRU, LSTM
from .maps.iterate import iterate, iterate_grid
from .maps.model import RNN
from .results import (
    BasinResult,
    BifurcationEvent,
    ClipResult,
    ContinuationResult,
    DescentResult,
    ErrorSurfaceResult,
    FixedPointResult,
    FoldCurveResult,
    GradientResult,
    JacobianResult,
    LyapunovResult,
    OrbitDiagramResult,
    OrbitResult,
    PathBifurcationResult,
    PathBranch,
    PopulationResult,
    RegularizerResult,
    SensitivityResult,
    SingleUnitBifurcations,
    SingleUnitCusp,
    SingleUnitCycles,
    SingleUnitFixedPoints,
    SweepResult,
    TangentResult,
    TaskBatch,
    TrainHistory,
    TrainResult,
    WallResult,
)
from .training import optim, tasks
from .training.inits import init_network
from .training.model import error_rate
from .training.population import train_population
from .training.sweep import sweep
from .training.train import train

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "FORMS",
    "GRU",
    "LSTM",
    "RNN",
    "Activation",
    "BasinResult",
    "BifurcationEvent",
    "ClipResult",
    "ContinuationResult",
    "DescentResult",
    "ErrorSurfaceResult",
    "FixedPointResult",
    "FoldCurveResult",
    "GradientResult",
    "JacobianResult",
    "LyapunovResult",
    "OrbitDiagramResult",
    "OrbitResult",
    "PathBifurcationResult",
    "PathBranch",
    "RegularizerResult",
    "SensitivityResult",
    "SingleUnitBifurcations",
    "SingleUnitCusp",
    "SingleUnitCycles",
    "SingleUnitFixedPoints",
    "SweepResult",
    "TangentResult",
    "TaskBatch",
    "TrainHistory",
    "TrainResult",
    "PopulationResult",
    "WallResult",
    "activation",
    "basins",
    "bptt",
    "clip_grad_norm",
    "clip_grad_value",
    "continuation",
    "descend",
    "error_rate",
    "error_surface",
    "error_surface_wall",
    "fixed_points",
    "fold_continuation",
    "from_torch",
    "gamma",
    "init_network",
    "iterate",
    "iterate_grid",
    "jacobian_products",
    "lyapunov_spectrum",
    "optim",
    "orbit_diagram",
    "path_bifurcations",
    "sensitivity",
    "single_unit",
    "sweep",
    "tasks",
    "to_torch",
    "train",
    "train_population",
    "vanishing_regularizer",
    "__version__",
]
