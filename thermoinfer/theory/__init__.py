"""Thermodynamic-limit theory: closed forms of docs/theory/hebbian-memorisation.md and
docs/theory/teacher-student-and-online.md."""

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

# isort: split
# teacher-student learning (docs/theory/teacher-student-and-online.md; NJP 2017)
from .gaussian_averages import (
    AVERAGE_METHODS as AVERAGE_METHODS,
)
from .gaussian_averages import (
    GaussianAverages as GaussianAverages,
)
from .gaussian_averages import (
    gaussian_averages as gaussian_averages,
)
from .gaussian_averages import (
    has_closed_form_averages as has_closed_form_averages,
)
from .teacher_student import (
    HEAT_CONVENTIONS as HEAT_CONVENTIONS,
)
from .teacher_student import (
    MODES as MODES,
)
from .teacher_student import (
    SOLVERS as SOLVERS,
)
from .teacher_student import (
    OrderParameterSolution as OrderParameterSolution,
)
from .teacher_student import (
    TeacherStudentTheory as TeacherStudentTheory,
)
from .teacher_student import (
    order_parameter_ode as order_parameter_ode,
)
from .teacher_student import (
    teacher_student_theory as teacher_student_theory,
)
