"""Thermodynamic-limit theory: closed forms of physics.md §3 (Hebbian memorisation)."""

from .memorization import (
    ENTROPY_CONVENTIONS as ENTROPY_CONVENTIONS,
)
from .memorization import (
    PROTOCOLS as PROTOCOLS,
)
from .memorization import (
    Conventions as Conventions,
)
from .memorization import (
    MemorizationTheory as MemorizationTheory,
)
from .memorization import (
    efficiency_fast_learning_coefficient as efficiency_fast_learning_coefficient,
)
from .memorization import (
    efficiency_slow_learning_limit as efficiency_slow_learning_limit,
)
from .memorization import (
    marchenko_pastur_entropy as marchenko_pastur_entropy,
)
from .memorization import (
    memorization_theory as memorization_theory,
)
