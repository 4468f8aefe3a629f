"""Information quantities, entropy conventions, estimators and the learning efficiency."""

from .channels import (
    LN2 as LN2,
)
from .channels import (
    biawgn_information as biawgn_information,
)
from .channels import (
    binary_channel_information as binary_channel_information,
)
from .channels import (
    binary_channel_information_from_snr as binary_channel_information_from_snr,
)
from .channels import (
    binary_entropy as binary_entropy,
)
from .channels import (
    gaussian_channel_information as gaussian_channel_information,
)
from .channels import (
    gaussian_tail as gaussian_tail,
)
from .channels import (
    information_from_u as information_from_u,
)
from .efficiency import (
    EFFICIENCY_STATUS as EFFICIENCY_STATUS,
)
from .efficiency import (
    EfficiencyResult as EfficiencyResult,
)
from .efficiency import (
    efficiency as efficiency,
)
from .efficiency import (
    status_name as status_name,
)
from .entropy import (
    ENTROPY_ESTIMATORS as ENTROPY_ESTIMATORS,
)
from .entropy import (
    MAX_EXACT_PATTERNS as MAX_EXACT_PATTERNS,
)
from .entropy import (
    EntropyEstimate as EntropyEstimate,
)
from .entropy import (
    MonteCarloEstimate as MonteCarloEstimate,
)
from .entropy import (
    annealed_entropy_change as annealed_entropy_change,
)
from .entropy import (
    exact_mixture_entropy_change as exact_mixture_entropy_change,
)
from .entropy import (
    gaussian_logdet_entropy_change as gaussian_logdet_entropy_change,
)
from .entropy import (
    hebbian_pattern_errors as hebbian_pattern_errors,
)
from .entropy import (
    isotropic_gaussian_entropy_change as isotropic_gaussian_entropy_change,
)
from .entropy import (
    quenched_gaussian_entropy_change as quenched_gaussian_entropy_change,
)
from .estimators import (
    INTERVAL_METHODS as INTERVAL_METHODS,
)
from .estimators import (
    InformationEstimate as InformationEstimate,
)
from .estimators import (
    information_from_counts as information_from_counts,
)
from .estimators import (
    information_from_errors as information_from_errors,
)
