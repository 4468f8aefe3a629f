"""Path log-probabilities, forward and time-reversed: the single path density of thermoinfer.

* :mod:`~thermoinfer.paths.linear`: exact Gaussian transitions of affine dynamics
  (Van Loan block exponentials) and the isotropic OU fast path of the Hebbian neuron.
* :mod:`~thermoinfer.paths.euler_maruyama`: Euler–Maruyama (Itô pre-point) kernels for
  nonlinear drifts, the reversed kernel and the log-ratio decomposition of docs/theory/paths-and-entropy-production.md, eq. (83).

Thermodynamic functionals and numpyro likelihoods call these functions; docs/paths.md gives the
formulas and conventions.
"""

from .euler_maruyama import EMLogRatio as EMLogRatio
from .euler_maruyama import em_log_ratio as em_log_ratio
from .euler_maruyama import em_path_log_prob as em_path_log_prob
from .euler_maruyama import em_path_log_prob_reversed as em_path_log_prob_reversed
from .euler_maruyama import em_transition_log_prob as em_transition_log_prob
from .linear import affine_transition as affine_transition
from .linear import linear_path_log_prob as linear_path_log_prob
from .linear import linear_path_log_prob_reversed as linear_path_log_prob_reversed
from .linear import linear_transition_log_prob as linear_transition_log_prob
from .linear import ou_path_log_prob as ou_path_log_prob
from .linear import ou_path_log_prob_reversed as ou_path_log_prob_reversed
from .linear import ou_transition_log_prob as ou_transition_log_prob

__all__ = [
    "affine_transition",
    "linear_transition_log_prob",
    "linear_path_log_prob",
    "linear_path_log_prob_reversed",
    "ou_transition_log_prob",
    "ou_path_log_prob",
    "ou_path_log_prob_reversed",
    "EMLogRatio",
    "em_transition_log_prob",
    "em_path_log_prob",
    "em_path_log_prob_reversed",
    "em_log_ratio",
]
