r"""Path log-probabilities, forward and time-reversed: the single path density of thermoinfer.

* :mod:`~thermoinfer.paths.linear`: exact Gaussian transitions of affine dynamics
  (Van Loan block exponentials) and the isotropic OU fast path of the Hebbian neuron.
* :mod:`~thermoinfer.paths.kernels`: one-step kernel objects (exact affine, isotropic OU) that
  sample and weigh with the same arrays.
* :mod:`~thermoinfer.paths.statistics`: sufficient statistics of observed transitions and the
  exact likelihoods from them, at a cost independent of the number of frames.
* :mod:`~thermoinfer.paths.euler_maruyama`: Euler–Maruyama (Itô pre-point) kernels for
  nonlinear drifts, the reversed kernel and the log-ratio decomposition of docs/theory/paths-and-entropy-production.md, eq. (83).
* :mod:`~thermoinfer.paths.polynomial`: polynomial drifts $\Theta\,\boldsymbol\phi(\boldsymbol z)$ in any
  dimension — the monomial basis of the standardised coordinates, sufficient statistics exact on
  any grid, the Euler–Maruyama likelihood from them, the conjugate (Matrix-Normal–Inverse-Wishart)
  posterior, and two entropy-production estimators per parameter draw (the projected steady rate
  and the Stratonovich functional along the observed path).

Thermodynamic functionals and numpyro likelihoods call these functions; docs/paths.md gives the
formulas and conventions.
"""

from .euler_maruyama import EMLogRatio as EMLogRatio
from .euler_maruyama import em_log_ratio as em_log_ratio
from .euler_maruyama import em_path_log_prob as em_path_log_prob
from .euler_maruyama import em_path_log_prob_reversed as em_path_log_prob_reversed
from .euler_maruyama import em_transition_log_prob as em_transition_log_prob
from .kalman import LocalizationStatistics as LocalizationStatistics
from .kalman import kalman_log_prob as kalman_log_prob
from .kalman import localization_log_likelihood as localization_log_likelihood
from .kalman import localization_statistics as localization_statistics
from .kernels import AffineKernel as AffineKernel
from .kernels import IsotropicOUKernel as IsotropicOUKernel
from .linear import affine_transition as affine_transition
from .linear import linear_path_log_prob as linear_path_log_prob
from .linear import linear_path_log_prob_reversed as linear_path_log_prob_reversed
from .linear import linear_transition_log_prob as linear_transition_log_prob
from .linear import ou_path_log_prob as ou_path_log_prob
from .linear import ou_path_log_prob_reversed as ou_path_log_prob_reversed
from .linear import ou_transition_log_prob as ou_transition_log_prob
from .polynomial import PolynomialStatistics as PolynomialStatistics
from .polynomial import polynomial_basis as polynomial_basis
from .polynomial import polynomial_force as polynomial_force
from .polynomial import polynomial_log_likelihood as polynomial_log_likelihood
from .polynomial import polynomial_statistics as polynomial_statistics
from .polynomial import stratonovich_entropy_rate as stratonovich_entropy_rate
from .statistics import IsotropicStatistics as IsotropicStatistics
from .statistics import TransitionStatistics as TransitionStatistics
from .statistics import affine_log_likelihood as affine_log_likelihood
from .statistics import isotropic_log_likelihood as isotropic_log_likelihood
from .statistics import isotropic_statistics as isotropic_statistics
from .statistics import transition_statistics as transition_statistics

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
    "AffineKernel",
    "IsotropicOUKernel",
    "TransitionStatistics",
    "IsotropicStatistics",
    "transition_statistics",
    "isotropic_statistics",
    "affine_log_likelihood",
    "isotropic_log_likelihood",
    "LocalizationStatistics",
    "localization_statistics",
    "localization_log_likelihood",
    "kalman_log_prob",
    "PolynomialStatistics",
    "polynomial_basis",
    "polynomial_force",
    "polynomial_statistics",
    "polynomial_log_likelihood",
    "stratonovich_entropy_rate",
]
