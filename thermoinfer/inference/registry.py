"""Model programs by name or by path (the ``models/`` folder, shipped in the wheel).

A model program is a Python file that defines

====================  =======================================================================
``NAME``              registry name (``str``), e.g. ``"neuron"``
``DESCRIPTION``       one line for listings (``str``)
``PARAMETERS``        ``{site: (units, long description)}`` of the inferred parameters (optional
                      for a user's file)
``model``             the numpyro program ``model(times, observations=None, **kwargs)`` with one
                      observed site ``"obs"`` whose log-density has one term per transition
``data_from_dataset`` ``data_from_dataset(ds, **options) -> dict`` of model keyword arguments
                      from a validated observation dataset
``derived_quantities`` ``derived_quantities(samples, data) -> {group: {var: (dims, values,
                      units, long_name)}}``, per posterior draw
====================  =======================================================================

(docs/models.md describes the contract and how to write your own file). Built-in models are
found in the installed package (``thermoinfer/_models``, non-editable installs) or in the
repository's ``models/`` folder (editable installs and checkouts), in that order; the file of
``NAME = "linear-ou"`` is ``linear_ou.py``. A user's own model loads by path and is validated
in the same way. Importing this module does not import numpyro; loading a model does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from ..errors import InputError

__all__ = ["REQUIRED_ATTRIBUTES", "model_paths", "list_models", "load_model"]

#: what every model file must define: name -> (kind, description)
REQUIRED_ATTRIBUTES = {
    "NAME": (str, "registry name, e.g. 'my-trap'"),
    "DESCRIPTION": (str, "one line for listings"),
    "model": ("callable", "numpyro program model(times, observations=None, **kwargs)"),
    "data_from_dataset": ("callable", "data_from_dataset(ds, **options) -> dict of model kwargs"),
    "derived_quantities": ("callable",
                           "derived_quantities(samples, data) -> {group: {var: (dims, values, "
                           "units, long_name)}}"),
}

_CACHE: dict[tuple[str, float], ModuleType] = {}


def _folders() -> list[Path]:
    pkg = Path(__file__).resolve().parent.parent
    return [folder for folder in (pkg / "_models", pkg.parent / "models") if folder.is_dir()]


def _stem(name: str) -> str:
    return name.replace("-", "_")


def model_paths() -> dict[str, Path]:
    """Files of the built-in models, by file stem with ``_`` shown as ``-`` (first folder wins).

    Examples
    --------
    >>> sorted(model_paths())[:3]
    ['linear-ou', 'neuron', 'neuron-readout']
    """
    found: dict[str, Path] = {}
    for folder in _folders():
        for f in sorted(folder.glob("*.py")):
            if f.name.startswith("_"):
                continue
            found.setdefault(f.stem.replace("_", "-"), f)
    return found


def _validate(module: ModuleType, path: Path) -> ModuleType:
    missing, wrong = [], []
    for attr, (kind, what) in REQUIRED_ATTRIBUTES.items():
        if not hasattr(module, attr):
            missing.append(f"{attr} ({what})")
            continue
        value = getattr(module, attr)
        ok = callable(value) if kind == "callable" else isinstance(value, kind) and bool(value)
        if not ok:
            want = "a function" if kind == "callable" else "a non-empty string"
            wrong.append(f"{attr} must be {want}, got {value!r}")
    params = getattr(module, "PARAMETERS", {})
    if not isinstance(params, dict):
        wrong.append(f"PARAMETERS must be a dict {{site: (units, description)}}, got {params!r}")
    if missing or wrong:
        parts = []
        if missing:
            parts.append("it does not define " + ", ".join(missing))
        if wrong:
            parts.append("; ".join(wrong))
        raise InputError(
            f"{path} is not a thermoinfer model file: {'; '.join(parts)}. See docs/models.md "
            "('Write your own model') for the contract."
        )
    return module


def _import(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"cannot load {path} as a Python module; pass a .py file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a user's file may fail in any way: report it in one line
        del sys.modules[module_name]
        raise InputError(
            f"model file {path} failed to import: {type(err).__name__}: {err}"
        ) from err
    return module


def _load_path(path: Path, *, builtin: bool) -> ModuleType:
    path = path.resolve()
    key = (str(path), path.stat().st_mtime)
    module = _CACHE.get(key)
    if module is None:
        if builtin:
            module_name = f"thermoinfer_models.{path.stem}"
        else:
            digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
            module_name = f"thermoinfer_user_model_{path.stem}_{digest}"
        module = _validate(_import(path, module_name), path)
        _CACHE[key] = module
    return module


def _looks_like_path(name: str) -> bool:
    return name.endswith(".py") or "/" in name or "\\" in name


def load_model(name_or_path) -> ModuleType:
    """Load a model program by registry name or from a ``.py`` file.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A built-in name (``"neuron"``, ``"neuron-readout"``, ``"linear-ou"``; see
        :func:`list_models`) or the path of a model file.

    Returns
    -------
    module
        The model module, validated to define ``NAME``, ``DESCRIPTION``, ``model``,
        ``data_from_dataset`` and ``derived_quantities``.

    Raises
    ------
    InputError
        Unknown name, missing file, a file that fails to import or lacks part of the contract.

    Examples
    --------
    >>> load_model("linear-ou").NAME
    'linear-ou'
    """
    if isinstance(name_or_path, Path) or _looks_like_path(str(name_or_path)):
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise InputError(f"model file {str(path)!r} does not exist; pass the path of a .py "
                             "model file or a built-in name: " + ", ".join(sorted(model_paths())))
        return _load_path(path, builtin=False)
    name = str(name_or_path)
    paths = model_paths()
    path = paths.get(name) or paths.get(_stem(name).replace("_", "-"))
    if path is None:
        raise InputError(
            f"unknown model {name!r}; built-in models: {', '.join(sorted(paths)) or 'none found'}"
            ". Pass the path of your own model file (e.g. ./my_model.py) to use it."
        )
    module = _load_path(path, builtin=True)
    return module


def _static_listing(path: Path) -> tuple[str, str] | None:
    """``(NAME, DESCRIPTION)`` read from a model file's literal assignments without importing it
    (so listing the models needs neither numpyro nor JAX); ``None`` if they are not literals."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("NAME", "DESCRIPTION"):
            try:
                literal = ast.literal_eval(value)
            except ValueError:
                return None
            if isinstance(literal, str):
                found[target.id] = literal
    if "NAME" in found and "DESCRIPTION" in found:
        return found["NAME"], found["DESCRIPTION"]
    return None


def list_models() -> dict[str, str]:
    """Built-in models: ``{NAME: DESCRIPTION}``.

    Read from the model files' literal ``NAME``/``DESCRIPTION`` assignments without importing
    them (fast: no numpyro, no JAX); a file whose values are not literals is imported.

    Examples
    --------
    >>> sorted(list_models())
    ['linear-ou', 'neuron', 'neuron-readout', 'polynomial-drift']
    """
    out = {}
    for path in model_paths().values():
        listing = _static_listing(path)
        if listing is None:
            module = _load_path(path, builtin=True)
            listing = (module.NAME, module.DESCRIPTION)
        out[listing[0]] = listing[1]
    return out
