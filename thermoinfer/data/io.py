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

__all__ = ["write_netcdf", "read_netcdf", "validate_tree", "check_output_path", "atomic_write",
           "remove_stale_temporaries", "NETCDF_SUFFIXES", "CSV_SUFFIXES"]

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


#: formats and the file-name endings each accepts (case-insensitive)
NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf", ".h5")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")

_TMP_TAG = ".thermoinfer-tmp-"


def check_output_path(path, *, suffixes=NETCDF_SUFFIXES, option: str = "-o",
                      what: str = "netCDF") -> Path:
    """Check an output path **before any computation**; return it as a :class:`~pathlib.Path`.

    Refused with one :class:`~thermoinfer.errors.InputError` naming ``option``, the path and
    the fix: an empty name; a missing parent folder, or one this process cannot create files in
    (tested by creating and removing a probe file); a target that is a directory, a device, a
    FIFO, a socket or any other non-regular file (``/dev/null`` included: a device node is never
    replaced); an existing read-only file (its write permission bits are off — checked on the
    mode, so that root too is refused); a name whose ending is not one of ``suffixes`` (pass
    ``suffixes=None`` to accept any). A symbolic link to a regular file is followed: the file
    it points to is the target.

    Parameters
    ----------
    path : str or os.PathLike
        The output file.
    suffixes : tuple of str or None
        Accepted endings, e.g. :data:`NETCDF_SUFFIXES` or :data:`CSV_SUFFIXES`.
    option : str
        How the CLI or API names the argument in messages (``"-o"``, ``"--out"``, ``"path"``).
    what : str
        The format written, for the message about a wrong ending.
    """
    import stat

    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if text is None:
        raise InputError(f"{option} must be a file path, got {type(path).__name__} {path!r:.60}.")
    if not text.strip():
        raise InputError(f"{option} needs a file name such as result.nc, got {text!r}.")
    p = Path(text)
    if p.is_symlink() and p.exists():
        p = Path(os.path.realpath(p))
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"{option} {text!r}: cannot inspect the path ({exc.strerror}).") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{option} {text!r} is a directory; give a file name such as "
                             f"{os.path.join(text, 'result.nc')!r}.")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a character device" if stat.S_ISCHR(st.st_mode) else
                    "a block device" if stat.S_ISBLK(st.st_mode) else
                    "a FIFO" if stat.S_ISFIFO(st.st_mode) else
                    "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise InputError(f"{option} {text!r} is {kind}; thermoinfer writes regular files "
                             "only (and never replaces a device or special file): give a file "
                             "name such as result.nc.")
        if not (st.st_mode & 0o222) or not os.access(p, os.W_OK):
            raise InputError(f"{option} {text!r} exists and is read-only; it is not replaced. "
                             "Choose another name, or make it writable (chmod u+w) if it may be "
                             "overwritten.")
    if suffixes is not None and p.suffix.lower() not in tuple(s.lower() for s in suffixes):
        raise InputError(f"{option} {text!r}: this writes {what}; give a name ending in "
                         f"{' or '.join(suffixes[:2]) if len(suffixes) > 1 else suffixes[0]} "
                         f"(accepted: {', '.join(suffixes)}).")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{option} {text!r}: the folder {str(folder)!r} does not exist; create "
                         "it (mkdir -p) or choose another path.")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{p.name}{_TMP_TAG}probe-")
    except OSError as exc:
        raise InputError(f"{option} {text!r}: cannot create files in {str(folder)!r} "
                         f"({exc.strerror}); choose another path.") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return p


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def remove_stale_temporaries(path) -> list[Path]:
    """Remove ``.NAME.thermoinfer-tmp-<pid>...`` files of ``path`` left by dead processes.

    A write that is killed (``kill -9``, power loss) leaves its temporary behind, never a
    half-written target. Temporaries of processes that are still running are kept. Returns the
    removed paths."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    removed = []
    prefix = f".{path.name}{_TMP_TAG}"
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_file(follow_symlinks=False):
            continue
        rest = entry.name[len(prefix):]
        pid_text = rest.split("-", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _temporary(path: Path) -> tuple[int, str]:
    """Create the temporary of ``path`` in its folder: ``.NAME.thermoinfer-tmp-<pid>-<n>``."""
    folder = path.parent if str(path.parent) else Path(".")
    base = folder / f".{path.name}{_TMP_TAG}{os.getpid()}"
    for n in range(1000):
        tmp = f"{base}-{n}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
        except FileExistsError:
            continue
    raise InputError(f"cannot create a temporary file beside {str(path)!r}.")  # pragma: no cover


def atomic_write(path, write, *, option: str = "path", suffixes=None, what: str = "data") -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary beside it, then it is renamed
    over ``path``. ``path`` is checked with :func:`check_output_path` first; stale temporaries
    of dead processes are removed. On any failure the old file is left intact and the temporary
    removed."""
    path = check_output_path(path, suffixes=suffixes, option=option, what=what)
    remove_stale_temporaries(path)
    try:
        fd, tmp = _temporary(path)
    except OSError as exc:
        raise InputError(f"cannot write into {str(path.parent)!r}: {exc.strerror}; choose "
                         f"another {option}.") from None
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # the temporary is 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {str(path)!r}: {exc}") from None
        raise
    return path


def write_netcdf(tree: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write ``tree`` to ``path`` atomically with the netcdf4 engine; return the path.

    The data go to a temporary ``.NAME.thermoinfer-tmp-<pid>-<n>`` in the target folder, which
    is renamed over the target only after the write completed; temporaries left by killed
    processes are removed on the next write of the same target. Only regular files are
    written: the path is checked with :func:`check_output_path` (any file ending accepted).

    Raises
    ------
    InputError
        If the target folder does not exist or is not writable, or the target is a directory,
        a device or other special file, or a read-only file.
    """
    if isinstance(tree, xr.Dataset):
        tree = xr.DataTree(tree)
    if not isinstance(tree, xr.DataTree):
        raise InputError(f"write_netcdf needs an xarray.DataTree (or Dataset), got "
                         f"{type(tree).__name__}.")
    if isinstance(path, (str, os.PathLike)) and Path(path).suffix.lower() in CSV_SUFFIXES:
        raise InputError(f"output path {os.fspath(path)!r} ends in a CSV suffix but "
                         "write_netcdf writes netCDF; give a name ending in .nc.")
    enc = _encoding(tree)
    return atomic_write(path, lambda tmp: tree.to_netcdf(tmp, engine="netcdf4", encoding=enc),
                        option="output path", suffixes=None, what="netCDF")


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
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"path must be a file path, got {type(path).__name__}.")
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
