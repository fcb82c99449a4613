"""Result objects returned by dynrnn's public functions.

Each result is a frozen dataclass whose array fields are made read-only, so
that a result can be shared without being changed by accident.  Derived
values are properties; ``repr`` shows shapes, not arrays.  Grouped by domain:
``maps`` (iteration and the single unit) and ``dynamics`` (N-unit analysis).
"""

from .dynamics import (
    BasinResult,
    BifurcationEvent,
    ContinuationResult,
    FixedPointResult,
    FoldCurveResult,
    OrbitDiagramResult,
    SensitivityResult,
)
from .maps import (
    OrbitResult,
    SingleUnitBifurcations,
    SingleUnitCusp,
    SingleUnitCycles,
    SingleUnitFixedPoints,
    TangentResult,
)

__all__ = [
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
]
