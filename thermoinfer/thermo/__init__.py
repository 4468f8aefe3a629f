"""Thermodynamic functionals: entropy production of general linear OU systems (physics.md §9).

Trajectory functionals (heat, work, Δs_tot, fluctuation-theorem diagnostics) build on the path
densities of :mod:`thermoinfer.paths`.
"""

from .linear_system import LinearSystemEP as LinearSystemEP
from .linear_system import TrajectoryEP as TrajectoryEP
from .linear_system import (
    entropy_production_from_trajectories as entropy_production_from_trajectories,
)
from .linear_system import entropy_production_rate as entropy_production_rate
from .linear_system import kl_rate as kl_rate
from .linear_system import linear_system_ep as linear_system_ep
from .linear_system import steady_covariance as steady_covariance

__all__ = [
    "LinearSystemEP",
    "TrajectoryEP",
    "steady_covariance",
    "entropy_production_rate",
    "kl_rate",
    "linear_system_ep",
    "entropy_production_from_trajectories",
]
