"""thermoinfer: the stochastic thermodynamics of learning.

Learning-neuron dynamics, exact and sampled path probabilities, heat, work and entropy
production, information and the learning efficiency, the thermodynamic-limit theory of
Goldt & Seifert (PRL 118, 010601, 2017; NJP 19, 113001, 2017), and Bayesian fits to measured
trajectories. Importing thermoinfer changes no global JAX configuration and does not import
numpyro; the public names below are loaded on first use, so ``import thermoinfer`` (and the
command line's ``--help``) does not import JAX.
"""

from __future__ import annotations

import importlib
import importlib.util

__version__ = "0.1.0"

#: public name -> (module, attribute); loaded on first access (PEP 562)
_EXPORTS = {
    "theory": ("thermoinfer.theory", None),
    "read_netcdf": ("thermoinfer.data.io", "read_netcdf"),
    "write_netcdf": ("thermoinfer.data.io", "write_netcdf"),
    "NeuronParams": ("thermoinfer.dynamics", "NeuronParams"),
    "SimulationResult": ("thermoinfer.dynamics", "SimulationResult"),
    "simulate": ("thermoinfer.dynamics", "simulate"),
    "InputError": ("thermoinfer.errors", "InputError"),
    "simulate_memorization": ("thermoinfer.memorization", "simulate_memorization"),
    "theory_memorization": ("thermoinfer.memorization", "theory_memorization"),
    "RULES": ("thermoinfer.rules", "RULES"),
    "LearningRule": ("thermoinfer.rules", "LearningRule"),
    "available_rules": ("thermoinfer.rules", "available_rules"),
    "get_rule": ("thermoinfer.rules", "get_rule"),
    "register_rule": ("thermoinfer.rules", "register_rule"),
    "unregister_rule": ("thermoinfer.rules", "unregister_rule"),
    "MemorizationData": ("thermoinfer.tasks", "MemorizationData"),
    "memorization_data": ("thermoinfer.tasks", "memorization_data"),
    "simulate_teacher_student": ("thermoinfer.teacher_student", "simulate_teacher_student"),
    "theory_teacher_student": ("thermoinfer.teacher_student", "theory_teacher_student"),
    "memorization_theory": ("thermoinfer.theory", "memorization_theory"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        # a subpackage or module (``thermoinfer.data``, ...) reached as an attribute
        if name.startswith("_") or importlib.util.find_spec(f"{__name__}.{name}") is None:
            raise AttributeError(f"module 'thermoinfer' has no attribute {name!r}") from None
        return importlib.import_module(f"{__name__}.{name}")
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value  # cache: the next access is a plain attribute lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
