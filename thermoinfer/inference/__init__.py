"""Bayesian inference layer: numpyro distributions of the dynamics and the model registry.

* :mod:`~thermoinfer.inference.distributions`: the learning-neuron dynamics and linear OU
  processes as numpyro distributions (``sample`` = the simulator or the exact kernel,
  ``log_prob`` = the single path density of :mod:`thermoinfer.paths`, one term per transition);
* :mod:`~thermoinfer.inference.registry`: the model programs of ``models/`` by name
  (:func:`list_models`, :func:`load_model`), and users' own model files by path;
* :mod:`~thermoinfer.inference.fit`: :func:`fit` (NUTS or SVI) to an ArviZ DataTree with the
  ``thermodynamics`` and ``information`` groups per draw, :func:`compare_rules` by LOO.

Attributes are imported lazily: ``import thermoinfer`` and ``import thermoinfer.inference`` do
not import numpyro; touching a distribution or loading a model does.
"""

from __future__ import annotations

import importlib

# public name -> submodule that defines it (imported on first access)
_LAZY = {
    "list_models": "registry",
    "load_model": "registry",
    "model_paths": "registry",
    "REQUIRED_ATTRIBUTES": "registry",
    "CALCULI": "distributions",
    "LearningNeuronTransitions": "distributions",
    "LinearOUTransitions": "distributions",
    "LinearOUReadouts": "distributions",
    "time_steps": "distributions",
    "fit": "fit",
    "compare_rules": "fit",
    "loo": "fit",
    "read_fit": "fit",
    "write_fit": "fit",
    "PoorDiagnosticsWarning": "diagnostics",
    "CompiledNUTS": "calibration",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
