"""Result objects returned by dynrnn's public functions.

Each result is a frozen dataclass whose array fields are made read-only, so
that a result can be shared without being changed by accident.  Derived
values are properties; ``repr`` shows shapes, not arrays.  Grouped by domain:
``maps`` (iteration and the single unit) and ``dynamics`` (N-unit analysis).
"""

from .clipping import ClipResult
from .descent import DescentResult
from .dynamics import (
    BasinResult,
    BifurcationEvent,
    ContinuationResult,
    FixedPointResult,
    FoldCurveResult,
    OrbitDiagramResult,
    SensitivityResult,
)
from .gradients import GradientResult
from .homotopy import PathBifurcationResult, PathBranch
from .jacobians import JacobianResult, LyapunovResult
from .maps import (
    OrbitResult,
    SingleUnitBifurcations,
    SingleUnitCusp,
    SingleUnitCycles,
    SingleUnitFixedPoints,
    TangentResult,
)
from .regularizer import RegularizerResult
from .surface import ErrorSurfaceResult, WallResult
from .sweep import SweepResult
from .tasks import TaskBatch
from .training import PopulationResult, TrainHistory, TrainResult

__all__ = [
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
]
