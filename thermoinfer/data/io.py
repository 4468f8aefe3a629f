"""netCDF IO for result DataTrees: atomic writes, validated reads (netcdf4 engine, always).

A write goes to a temporary file in the target folder and is renamed over the target only
after it completed, so a failure mid-write leaves an existing file intact. A read validates
the dims, dtypes, finiteness and required attributes and answers a bad file with an
:class:`~thermoinfer.errors.InputError` that names the file and the problem.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from .schema import DIMS, REQUIRED_ROOT_ATTRS

__all__ = ["write_netcdf", "read_netcdf", "validate_tree"]

# ArviZ names the unnamed axes of a posterior site "<site>_dim_<i>"; they are accepted as well
_ARVIZ_DEFAULT_DIM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*_dim_[0-9]+")


def _encoding(tree: xr.DataTree) -> dict:
    enc = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        e = {}
        for name, var in ds.variables.items():
            if np.issubdtype(var.dtype, np.floating) and name in ds.coords:
                e[name] = {"_FillValue": None}  # CF checkers reject NaN fill on coordinates
        if e:
            enc[node.path if node.path != "/" else "/"] = e
    return enc


def write_netcdf(tree: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write ``tree`` to ``path`` atomically with the netcdf4 engine; return the path.

    Raises
    ------
    InputError
        If the target folder does not exist or is not writable.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder {str(folder)!r} does not exist; create it or choose another -o path.")
    if path.is_dir():
        raise InputError(f"output path {str(path)!r} is a directory; give a file name such as "
                         f"{str(path / 'result.nc')!r}.")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write into {str(folder)!r}: {exc.strerror}; choose another -o path.") from None
    os.close(fd)
    try:
        tree.to_netcdf(tmp, engine="netcdf4", encoding=_encoding(tree))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {str(path)!r}: {exc}") from None
        raise
    return path


def validate_tree(tree: xr.DataTree, source: str = "tree") -> None:
    """Check required root attrs, dimension names, units and finiteness (NaN allowed, inf not
    except on variables that declare ``allow_inf``)."""
    missing = [a for a in REQUIRED_ROOT_ATTRS if a not in tree.attrs]
    if missing:
        raise InputError(f"{source} is not a thermoinfer result: missing root attribute(s) {missing}.")
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        for dim in ds.dims:
            if dim not in DIMS and not _ARVIZ_DEFAULT_DIM.fullmatch(str(dim)):
                raise InputError(f"{source}: group {node.path!r} has unknown dimension {dim!r}; "
                                 f"expected names from {list(DIMS)}.")
        for name, var in ds.data_vars.items():
            if "units" not in var.attrs:
                raise InputError(f"{source}: variable {node.path}/{name} has no 'units' attribute.")
            if np.issubdtype(var.dtype, np.floating) and not var.attrs.get("allow_inf", 0):
                if np.isinf(var.values).any():
                    raise InputError(f"{source}: variable {node.path}/{name} contains inf values.")


def read_netcdf(path: str | os.PathLike, *, validate: bool = True) -> xr.DataTree:
    """Read a result written by :func:`write_netcdf` fully into memory and validate it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {str(path)!r}.")
    try:
        with xr.open_datatree(path, engine="netcdf4") as tree:
            tree = tree.load()
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {str(path)!r} as netCDF4: {exc}") from None
    if validate:
        validate_tree(tree, source=repr(str(path)))
    return tree
