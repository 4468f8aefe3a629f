"""Thermodynamic functionals: entropy production of general linear OU systems (docs/theory/linear-ou.md).

Trajectory functionals (heat, work, Δs_tot, fluctuation-theorem diagnostics) build on the path
densities of :mod:`thermoinfer.paths`.
"""

from .entropy_production import EntropyProduction as EntropyProduction
from .entropy_production import LogPartition as LogPartition
from .entropy_production import PathLogRatio as PathLogRatio
from .entropy_production import SystemEntropyChange as SystemEntropyChange
from .entropy_production import entropy_production as entropy_production
from .entropy_production import exclusive_work as exclusive_work
from .entropy_production import inclusive_work as inclusive_work
from .entropy_production import log_partition_function as log_partition_function
from .entropy_production import path_log_ratio as path_log_ratio
from .entropy_production import system_entropy_change as system_entropy_change
from .fluctuation import FluctuationCheck as FluctuationCheck
from .fluctuation import UnreliableEstimateWarning as UnreliableEstimateWarning
from .fluctuation import bochkov_kuzovlev as bochkov_kuzovlev
from .fluctuation import detailed_fluctuation_theorem as detailed_fluctuation_theorem
from .fluctuation import exponential_average as exponential_average
from .fluctuation import integral_fluctuation_theorem as integral_fluctuation_theorem
from .fluctuation import jarzynski as jarzynski
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
    "entropy_production",
    "path_log_ratio",
    "system_entropy_change",
    "log_partition_function",
    "inclusive_work",
    "exclusive_work",
    "EntropyProduction",
    "PathLogRatio",
    "LogPartition",
    "SystemEntropyChange",
    "integral_fluctuation_theorem",
    "jarzynski",
    "bochkov_kuzovlev",
    "detailed_fluctuation_theorem",
    "exponential_average",
    "UnreliableEstimateWarning",
    "FluctuationCheck",
]
