r"""NUTS chains as one compiled per-chain program, scheduled in sequence or in parallel.

The draws of a fit depend only on the seed and the configuration, not on how the chains are
scheduled: every chain runs **the same compiled program** (numpyro's NUTS kernel,
``numpyro.infer.hmc.hmc`` with the adaptation of ``numpyro.infer.NUTS``: step size by dual
averaging, diagonal mass matrix; starting points by ``init_to_uniform``, or near a model's
data-based ``initial_values``) with **the same per-chain key**, whether the chains run one
after another on one device (``"sequential"``) or at the same time in threads
(``"parallel"``: one thread per device, or, on a single device, one per CPU core). numpyro's
own ``MCMC`` compiles a different program for each of its chain methods (``pmap`` of the whole
chain against a loop of jitted pieces), so its parallel and sequential draws differ in the last
bits and then, through the chaotic NUTS trajectories, entirely.

A chain advances in segments of a fixed number of steps (set by the run's length only, never by
whether a progress bar is shown), so a progress bar with an ETA is updated from Python between
segments — no host callback runs inside the compiled program. Warmup and sampling are the same
kernel (adaptation stops after ``warmup`` steps inside it); the last segment may run a few steps
past the end, which are discarded and change none of the kept draws.

Keys: ``split(key, chains)`` gives one key per chain; each is split into the kernel's key and
the key of its starting point, as ``numpyro.infer.NUTS.init`` does.
"""

from __future__ import annotations

import functools
import math
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = ["NoStartingPoint", "ChainDraws", "run_chains", "segment_length", "CHAIN_METHODS"]

CHAIN_METHODS = ("parallel", "sequential")
#: per-draw fields of the kernel state, named as ArviZ names them
_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "step_size", "potential_energy")
#: segments per chain (progress resolution); the segment length depends only on the run length
_SEGMENTS = 20

_PROGRAMS: dict = {}
#: how Python shows an object without a value-based repr
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_PROGRAMS_LOCK = threading.Lock()


class NoStartingPoint(InputError):
    """The model's log density is not finite at any starting point tried."""

    def __init__(self):
        super().__init__(
            "the model's log density is not finite at any starting point numpyro tried (100 "
            "draws from the prior's support): the data are probably on a scale the priors "
            "exclude (very large values, or units far from order one). Rescale the data or "
            "widen the priors (--option, see the model's documentation).")


class ChainDraws(NamedTuple):
    """Output of :func:`run_chains` (NumPy arrays with leading ``(chain, draw)`` axes)."""

    samples: dict
    """constrained draws of every latent and deterministic site"""
    stats: dict
    """``diverging, energy, num_steps, accept_prob, step_size, potential_energy`` per draw"""
    chain_method: str
    devices: int


def _cpu_count() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def segment_length(warmup: int, draws: int) -> int:
    """Steps per compiled segment: ``ceil((warmup + draws) / 20)``, at least 1."""
    return max(1, math.ceil((int(warmup) + int(draws)) / _SEGMENTS))


def _is_dynamic(value) -> bool:
    """A numeric array, or a tuple (e.g. a ``NamedTuple`` of statistics) of numeric arrays."""
    import jax

    if isinstance(value, tuple):
        leaves = jax.tree.leaves(value)
        return bool(leaves) and all(_is_dynamic(v) for v in leaves)
    return isinstance(value, (np.ndarray, jax.Array)) and np.issubdtype(np.asarray(value).dtype,
                                                                         np.number)


def _freeze(value):
    """A hashable stand-in for a static model argument (for the program cache)."""
    if isinstance(value, np.ndarray):
        import hashlib

        return ("ndarray", value.shape, value.dtype.str,
                hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest())
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class _Kernels(NamedTuple):
    """The four compiled pieces of a chain for one signature of the traced arguments."""

    init: object
    start: object
    segment: object
    post: object


_PIECES = _Kernels._fields


class _Compiler:
    """Callables for the pieces; on a single device each compiled in a thread once exported.

    XLA compiles a program on one thread (and releases the GIL), and a sampler's pieces are
    independent programs: compiling each one while the next is traced, and side by side on a
    multi-core machine, rather than on first use one after another, saves much of a cold
    start's compile time. With several devices the pieces are compiled on first use, for the
    device each chain runs on.
    """

    def __init__(self):
        import jax

        self._jax = jax
        self._jitted: dict = {}
        self._futures: dict = {}
        self._eager = len(jax.local_devices()) == 1
        self._pool = ThreadPoolExecutor(max_workers=min(len(_PIECES), _cpu_count())) \
            if self._eager else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def submit(self, name, exported) -> None:
        jax = self._jax
        self._jitted[name] = jitted = jax.jit(exported.call)
        if self._eager:
            specs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in exported.in_avals]
            args, kwargs = jax.tree.unflatten(exported.in_tree, specs)

            def compile_one():
                with jax.enable_x64(True):  # a thread-local setting
                    return jitted.lower(*args, **kwargs).compile()

            self._futures[name] = self._pool.submit(compile_one)

    def kernels(self) -> _Kernels:
        if not self._eager:
            return _Kernels(**self._jitted)
        return _Kernels(**{n: f.result() for n, f in self._futures.items()})


INIT_RADIUS = 0.1
"""Half-width, in the unconstrained space, of the box around a model's data-based starting
point (``initial_values``) that each chain's start is drawn from."""


def _init_around(site=None, values=None, radius=INIT_RADIUS):
    """numpyro init strategy: a uniform point within ``radius`` (unconstrained) of
    ``values[name]`` for the sites given there, numpyro's ``init_to_uniform`` (radius 2) for the
    others."""
    from numpyro.distributions import biject_to
    from numpyro.infer import init_to_uniform

    if site is None:
        return functools.partial(_init_around, values=values, radius=radius)
    values = values or {}
    if (site["type"] == "sample" and not site["is_observed"] and site["name"] in values
            and not site["fn"].support.is_discrete):
        import jax

        transform = biject_to(site["fn"].support)
        centre = transform.inv(values[site["name"]])
        noise = jax.random.uniform(site["kwargs"]["rng_key"], centre.shape, centre.dtype,
                                   -radius, radius)
        return transform(centre + noise)
    return init_to_uniform(site)


def _raw_keys(keys):
    """Key data (``uint32``) of typed or raw keys: the programs take raw keys, whose bits equal
    those of the default typed keys."""
    import jax

    keys = jax.numpy.asarray(keys)
    if jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
        return np.asarray(jax.random.key_data(keys))
    return np.asarray(keys)


def _spec(a):
    import jax

    return jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype)


class _Program:
    """The compiled pieces of one chain: start, segment of ``length`` steps, postprocess.

    Each piece is traced once per signature of the traced arguments (data leaves, key shape,
    chains, draws), exported with :mod:`jax.export` and run from the exported program; model
    files' programs are also kept on disk (:mod:`thermoinfer.inference.program_store`), so a
    later process loads them instead of tracing. The exported program runs in both cases, so
    the draws do not depend on whether it was loaded.
    """

    def __init__(self, model, static, *, warmup, length, target_accept, max_tree_depth):
        import jax

        from . import program_store

        def wrapped(times, **dyn):
            return model(times, **static, **dyn)

        self.wrapped = wrapped
        self.warmup, self.length = int(warmup), int(length)
        self.target_accept, self.max_tree_depth = float(target_accept), int(max_tree_depth)
        digest = program_store.code_digest(model)
        key = None if digest is None else repr(
            (digest, _freeze(static), self.warmup, self.length, self.target_accept,
             self.max_tree_depth))
        # a static argument shown by its memory address (a function, an object) would give a
        # new key, and a new file, in every process: such programs stay in memory
        self._store_key = None if key is None or _ADDRESS.search(key) else key
        self._sets: dict = {}
        self._lock = threading.Lock()
        self._jax = jax
        self.traced = 0
        """how many times the pieces were traced (not loaded) in this process"""

    def _export(self, keys, leaves, treedef, draws, exported=None) -> dict:
        """Trace and export the four pieces (``{name: jax.export.Exported}``).

        ``exported(name, program)``, if given, is called as soon as each piece is exported (to
        start compiling it while the next one is traced).
        """
        done = exported or (lambda name, program: None)
        from jax import export
        from numpyro.infer.hmc import hmc
        from numpyro.infer.util import initialize_model

        jax = self._jax
        data = [_spec(a) for a in leaves]
        wrapped = self.wrapped
        captured: dict = {}

        def unflat(ls):
            return jax.tree.unflatten(treedef, list(ls))

        def init(keys, *ls):
            times, dyn, around = unflat(ls)
            info = initialize_model(keys, wrapped, model_args=(times,), model_kwargs=dyn,
                                    dynamic_args=True,
                                    init_strategy=functools.partial(_init_around, values=around))
            captured["fns"] = (info.potential_fn, info.postprocess_fn)
            return tuple(info.param_info)

        e_init = export.export(jax.jit(init))(_spec(keys), *data)
        done("init", e_init)
        potential_fn, postprocess_gen = captured["fns"]
        init_kernel, sample_kernel = hmc(potential_fn_gen=potential_fn, algo="NUTS")
        warmup, length = self.warmup, self.length
        target, depth = self.target_accept, self.max_tree_depth
        z_batched = jax.tree.unflatten(e_init.out_tree, list(e_init.out_avals))[0]
        z_spec = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), z_batched)
        zs_spec = jax.tree.map(lambda a: jax.ShapeDtypeStruct((int(draws),) + a.shape[1:],
                                                              a.dtype), z_batched)

        def start(z0, key, *ls):
            times, dyn, _ = unflat(ls)
            state = init_kernel(z0, warmup, target_accept_prob=target, max_tree_depth=depth,
                                model_args=(times,), model_kwargs=dyn, rng_key=key)
            flat, captured["state"] = jax.tree.flatten(state)
            return flat

        # ``start`` sets the kernel's warmup schedule (a trace-time side effect of numpyro's
        # hmc closure): it is always traced before ``segment``.
        e_start = export.export(jax.jit(start))(z_spec, _spec(keys[0]), *data)
        done("start", e_start)
        state_tree = captured["state"]

        def segment(flat, *ls):
            times, dyn, _ = unflat(ls)

            def body(s, _):
                s = sample_kernel(s, model_args=(times,), model_kwargs=dyn)
                out = (s.z, s.diverging, s.energy, s.num_steps, s.accept_prob,
                       s.adapt_state.step_size, s.potential_energy)
                return s, out

            state, out = jax.lax.scan(body, jax.tree.unflatten(state_tree, flat), None,
                                      length=length)
            return jax.tree.leaves(state), out

        e_segment = export.export(jax.jit(segment))(list(e_start.out_avals), *data)
        done("segment", e_segment)

        def post(zs, *ls):
            times, dyn, _ = unflat(ls)
            return jax.vmap(postprocess_gen(times, **dyn))(zs)

        e_post = export.export(jax.jit(post))(zs_spec, *data)
        done("post", e_post)
        self.traced += 1
        return dict(init=e_init, start=e_start, segment=e_segment, post=e_post)

    def kernels(self, keys, leaves, treedef, draws) -> _Kernels:
        """The compiled pieces for this signature: from memory, from disk, or traced."""
        from . import program_store

        jax = self._jax
        sig = repr((str(treedef), [(np.shape(a), np.asarray(a).dtype.str) for a in leaves],
                    keys.shape, keys.dtype.str, int(draws), jax.default_backend()))
        with self._lock:
            found = self._sets.get(sig)
            if found is not None:
                return found
            folder = None if self._store_key is None else program_store.store_folder()
            key = None if folder is None else self._store_key + sig
            programs = program_store.load(folder, key, _PIECES)
            with _Compiler() as compiler:
                if programs is None:
                    programs = self._export(keys, leaves, treedef, draws, compiler.submit)
                    program_store.save(folder, key, programs)
                else:
                    for name in _PIECES:
                        compiler.submit(name, programs[name])
            found = compiler.kernels()
            self._sets[sig] = found
            return found

    def setup(self, key_init, times, dyn, draws, around=None):
        """Starting points of all chains (one batched call, the same for every schedule), the
        compiled pieces and the flat traced arguments. ``around``: ``{site: constrained value}``
        the chains start near (:func:`_init_around`)."""
        jax = self._jax
        keys = _raw_keys(key_init)
        around = {k: np.asarray(v, dtype=float) for k, v in (around or {}).items()}
        leaves, treedef = jax.tree.flatten((times, dyn, around))
        leaves = [np.asarray(a) for a in leaves]
        kernels = self.kernels(keys, leaves, treedef, draws)
        z, pe, grad = kernels.init(keys, *leaves)
        finite = np.isfinite(np.asarray(pe)).all() and all(
            np.isfinite(np.asarray(g)).all() for g in jax.tree.leaves(grad))
        if not finite:
            # the compiled search tried numpyro's 100 draws for each chain without success
            raise NoStartingPoint()
        return z, kernels, leaves

    def run_chain(self, kernels, z0, key, leaves, total, device, on_segment):
        jax = self._jax
        with jax.enable_x64(True):
            z0, key, leaves = jax.device_put((z0, key, leaves), device)
            state = kernels.start(z0, key, *leaves)
            pieces, done = [], 0
            while done < total:
                state, out = kernels.segment(state, *leaves)
                pieces.append(jax.device_get(out))
                done += self.length
                if on_segment is not None:
                    on_segment(min(self.length, total - (done - self.length)))
            keep = slice(self.warmup, total)
            out = jax.tree.map(lambda *xs: np.concatenate(xs, axis=0)[keep], *pieces)
            zs = out[0]
            samples = jax.device_get(kernels.post(jax.device_put(zs, device), *leaves))
        stats = {name: np.asarray(a) for name, a in zip(_FIELDS, out[1:], strict=True)}
        return {k: np.asarray(v) for k, v in samples.items()}, stats


def _program(model, static, *, warmup, length, target_accept, max_tree_depth) -> _Program:
    key = (model, _freeze(static), int(warmup), int(length), float(target_accept),
           int(max_tree_depth))
    with _PROGRAMS_LOCK:
        prog = _PROGRAMS.get(key)
        if prog is None:
            prog = _Program(model, static, warmup=warmup, length=length,
                            target_accept=target_accept, max_tree_depth=max_tree_depth)
            if len(_PROGRAMS) >= 8:  # a small cache: compiled samplers reused for equal shapes
                _PROGRAMS.pop(next(iter(_PROGRAMS)))
            _PROGRAMS[key] = prog
    return prog


def run_chains(model, times, kwargs: dict, *, key, chains: int, warmup: int, draws: int,
               target_accept: float = 0.8, max_tree_depth: int = 10,
               chain_method: str | None = None, progress=None,
               static_names=(), init_values: dict | None = None) -> ChainDraws:
    """Run ``chains`` NUTS chains of a numpyro program.

    Parameters
    ----------
    model : callable
        ``model(times, observations=..., **kwargs)``.
    times : array_like or None
        Observation times (``None`` for a model that does not use them, e.g. one that reads
        sufficient statistics: the program then does not depend on the data's length).
    kwargs : dict
        Model keyword arguments (``observations`` included). Numeric arrays are traced
        arguments, except those named in ``static``; everything else is part of the compiled
        program.
    key : jax.random key
        The run's key; chain ``c`` uses ``split(key, chains)[c]``.
    chains, warmup, draws : int
        Chains, warmup (adaptation) steps and kept draws per chain.
    target_accept, max_tree_depth
        NUTS settings, as in ``numpyro.infer.NUTS``.
    chain_method : {"parallel", "sequential"}, optional
        ``"parallel"``: chains at the same time in threads, one per device, or, with a single
        device, one per CPU core (a CPU device runs programs from several threads at once);
        ``"sequential"``: one after another on the default device. Default: parallel when
        there is more than one device or CPU core. The draws are the same either way.
    progress : callable, optional
        ``progress(chain, steps)`` after each segment of a chain (from the chain's thread).
    static_names : sequence of str, optional
        Keyword arguments the model needs as concrete values (e.g. arrays it factorises with
        NumPy at trace time); a model module declares them as ``STATIC_KWARGS``.
    init_values : dict, optional
        ``{site: constrained value}``: each chain starts at a uniform point within
        :data:`INIT_RADIUS` of it in the unconstrained space (a model module's data-based
        ``initial_values``); other sites as numpyro's ``init_to_uniform``. Traced data: the
        compiled program does not depend on the values.

    Returns
    -------
    ChainDraws
    """
    import jax

    with jax.enable_x64(True):
        devices = jax.local_devices()
        workers = len(devices) if len(devices) > 1 else min(int(chains), _cpu_count())
        if chain_method is None:
            chain_method = "parallel" if chains > 1 and workers > 1 else "sequential"
        if chain_method not in CHAIN_METHODS:
            raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, got {chain_method!r}")
        keep = set(static_names)
        dyn = {k: jax.tree.map(np.asarray, v) for k, v in kwargs.items()
               if _is_dynamic(v) and k not in keep}
        static = {k: v for k, v in kwargs.items() if k not in dyn}
        times = None if times is None else np.asarray(times, dtype=float)
        length = segment_length(warmup, draws)
        prog = _program(model, static, warmup=warmup, length=length,
                        target_accept=target_accept, max_tree_depth=max_tree_depth)
        chain_keys = jax.random.split(key, int(chains))
        pairs = jax.vmap(jax.random.split)(chain_keys)       # (chains, 2): kernel, start
        kernel_keys, init_keys = _raw_keys(pairs[:, 0]), pairs[:, 1]
        z0, kernels, leaves = prog.setup(init_keys, times, dyn, draws,
                                         init_values)  # z0: (chains, ...)
    total = int(warmup) + int(draws)
    n_dev = len(devices) if chain_method == "parallel" else 1

    def one(c):
        z0_c = jax.tree.map(lambda a: a[c], z0)
        cb = None if progress is None else (lambda n: progress(c, n))
        return prog.run_chain(kernels, z0_c, kernel_keys[c], leaves, total, devices[c % n_dev],
                              cb)

    if chain_method == "parallel" and workers > 1:
        # one thread per device, or (one device) per CPU core: a CPU device runs programs
        # dispatched from several threads at the same time. Chain c runs on device c mod n_dev,
        # in thread c mod workers.
        by_worker = [[c for c in range(chains) if c % workers == w] for w in range(workers)]

        def worker(cs):
            return [(c, one(c)) for c in cs]

        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = dict(r for part in pool.map(worker, by_worker) for r in part)
    else:
        results = {c: one(c) for c in range(chains)}
    samples = {k: np.stack([results[c][0][k] for c in range(chains)])
               for k in results[0][0]}
    stats = {k: np.stack([results[c][1][k] for c in range(chains)]) for k in _FIELDS}
    return ChainDraws(samples, stats, chain_method, n_dev)
