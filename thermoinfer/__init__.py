"""thermoinfer: the stochastic thermodynamics of learning.

Learning-neuron dynamics, exact and sampled path probabilities, heat, work and entropy
production, information and the learning efficiency, the thermodynamic-limit theory of
Goldt & Seifert (PRL 118, 010601, 2017; NJP 19, 113001, 2017), and Bayesian fits to measured
trajectories. Importing thermoinfer changes no global JAX configuration and does not import
numpyro.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import theory as theory
from .data.io import read_netcdf as read_netcdf
from .data.io import write_netcdf as write_netcdf
from .dynamics import NeuronParams as NeuronParams
from .dynamics import SimulationResult as SimulationResult
from .dynamics import simulate as simulate
from .errors import InputError as InputError
from .memorization import simulate_memorization as simulate_memorization
from .memorization import theory_memorization as theory_memorization
from .rules import RULES as RULES
from .rules import LearningRule as LearningRule
from .rules import available_rules as available_rules
from .rules import get_rule as get_rule
from .rules import register_rule as register_rule
from .rules import unregister_rule as unregister_rule
from .tasks import MemorizationData as MemorizationData
from .tasks import memorization_data as memorization_data
from .teacher_student import simulate_teacher_student as simulate_teacher_student
from .teacher_student import theory_teacher_student as theory_teacher_student
from .theory import memorization_theory as memorization_theory
