r"""NUTS chains as one compiled per-chain program, scheduled in sequence or in parallel.

The draws of a fit depend only on the seed and the configuration, not on how the chains are
scheduled: every chain runs **the same compiled program** (numpyro's NUTS kernel,
``numpyro.infer.hmc.hmc`` with the adaptation of ``numpyro.infer.NUTS``: step size by dual
averaging, diagonal mass matrix, ``init_to_uniform`` starting points) with **the same per-chain
key**, whether the chains run one after another on one device (``"sequential"``) or at the same
time on several CPU devices, one thread each (``"parallel"``). numpyro's own ``MCMC`` compiles a
different program for each of its chain methods (``pmap`` of the whole chain against a loop of
jitted pieces), so its parallel and sequential draws differ in the last bits and then, through
the chaotic NUTS trajectories, entirely.

A chain advances in segments of a fixed number of steps (set by the run's length only, never by
whether a progress bar is shown), so a progress bar with an ETA is updated from Python between
segments — no host callback runs inside the compiled program. Warmup and sampling are the same
kernel (adaptation stops after ``warmup`` steps inside it); the last segment may run a few steps
past the end, which are discarded and change none of the kept draws.

Keys: ``split(key, chains)`` gives one key per chain; each is split into the kernel's key and
the key of its starting point, as ``numpyro.infer.NUTS.init`` does.
"""

from __future__ import annotations

import math
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


class _Program:
    """The compiled pieces of one chain: start, segment of ``length`` steps, postprocess."""

    def __init__(self, model, static, *, warmup, length, target_accept, max_tree_depth):
        import jax
        from numpyro.infer.hmc import hmc
        from numpyro.infer.util import initialize_model

        def wrapped(times, **dyn):
            return model(times, **static, **dyn)

        self.wrapped = wrapped
        self._initialize_model = initialize_model
        self._hmc = hmc
        self.warmup, self.length = int(warmup), int(length)
        self.target_accept, self.max_tree_depth = float(target_accept), int(max_tree_depth)
        self._kernels = None
        self._init = None
        self._lock = threading.Lock()
        self._jax = jax

    def _compile_init(self):
        """One compiled program for the starting points of all chains: numpyro's
        ``initialize_model`` under ``jit``. Its kernel functions (``potential_fn``,
        ``postprocess_fn``, which hold no traced values) are taken from the trace; later fits
        of equal shapes reuse the compiled program and trace nothing."""
        from numpyro.infer import init_to_uniform

        jax = self._jax
        captured = {}

        def init(keys, times, dyn):
            info = self._initialize_model(keys, self.wrapped, model_args=(times,),
                                          model_kwargs=dyn, dynamic_args=True,
                                          init_strategy=init_to_uniform)
            captured["fns"] = (info.potential_fn, info.postprocess_fn)
            return info.param_info

        return jax.jit(init), captured

    def setup(self, key_init, times, dyn):
        """Starting points of all chains (one batched call, the same for every schedule) and the
        kernel functions."""
        jax = self._jax
        with self._lock:
            if self._init is None:
                self._init = self._compile_init()
        init, captured = self._init
        z, pe, grad = init(key_init, times, dyn)
        finite = np.isfinite(np.asarray(pe)).all() and all(
            np.isfinite(np.asarray(g)).all() for g in jax.tree.leaves(grad))
        if not finite:
            # the compiled search tried numpyro's 100 draws for each chain without success
            raise NoStartingPoint()
        with self._lock:
            if self._kernels is None:
                potential_fn, postprocess_gen = captured["fns"]
                init_kernel, sample_kernel = self._hmc(potential_fn_gen=potential_fn,
                                                       algo="NUTS")
                warmup, length = self.warmup, self.length
                target, depth = self.target_accept, self.max_tree_depth

                def start(z0, key, times, dyn):
                    return init_kernel(z0, warmup, target_accept_prob=target,
                                       max_tree_depth=depth, model_args=(times,),
                                       model_kwargs=dyn, rng_key=key)

                def segment(state, times, dyn):
                    def body(s, _):
                        s = sample_kernel(s, model_args=(times,), model_kwargs=dyn)
                        out = (s.z, s.diverging, s.energy, s.num_steps, s.accept_prob,
                               s.adapt_state.step_size, s.potential_energy)
                        return s, out

                    return jax.lax.scan(body, state, None, length=length)

                def post(zs, times, dyn):
                    return jax.vmap(postprocess_gen(times, **dyn))(zs)

                # ``start`` sets the kernel's warmup schedule (a trace-time side effect of
                # numpyro's hmc closure): it is always traced before ``segment``.
                self._kernels = (jax.jit(start), jax.jit(segment), jax.jit(post))
        return z

    def run_chain(self, z0, key, times, dyn, total, device, on_segment):
        jax = self._jax
        start, segment, post = self._kernels
        with jax.enable_x64(True):
            z0, key, times, dyn = jax.device_put((z0, key, times, dyn), device)
            state = start(z0, key, times, dyn)
            pieces, done = [], 0
            while done < total:
                state, out = segment(state, times, dyn)
                pieces.append(jax.device_get(out))
                done += self.length
                if on_segment is not None:
                    on_segment(min(self.length, total - (done - self.length)))
            keep = slice(self.warmup, total)
            out = jax.tree.map(lambda *xs: np.concatenate(xs, axis=0)[keep], *pieces)
            zs = out[0]
            samples = jax.device_get(post(jax.device_put(zs, device), times, dyn))
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
               static_names=()) -> ChainDraws:
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
        ``"parallel"``: chains at the same time, one per CPU device (threads);
        ``"sequential"``: one after another on the default device. Default: parallel when JAX
        has more than one device. The draws are the same either way.
    progress : callable, optional
        ``progress(chain, steps)`` after each segment of a chain (from the chain's thread).
    static_names : sequence of str, optional
        Keyword arguments the model needs as concrete values (e.g. arrays it factorises with
        NumPy at trace time); a model module declares them as ``STATIC_KWARGS``.

    Returns
    -------
    ChainDraws
    """
    import jax

    with jax.enable_x64(True):
        devices = jax.local_devices()
        if chain_method is None:
            chain_method = "parallel" if chains > 1 and len(devices) > 1 else "sequential"
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
        kernel_keys, init_keys = pairs[:, 0], pairs[:, 1]
        z0 = prog.setup(init_keys, times, dyn)               # batched: (chains, ...) per site
    total = int(warmup) + int(draws)
    n_dev = len(devices) if chain_method == "parallel" else 1

    def one(c):
        z0_c = jax.tree.map(lambda a: a[c], z0)
        cb = None if progress is None else (lambda n: progress(c, n))
        return prog.run_chain(z0_c, kernel_keys[c], times, dyn, total, devices[c % n_dev], cb)

    if chain_method == "parallel" and n_dev > 1:
        # one worker per device; chain c runs on device c mod n_dev
        by_device = [[c for c in range(chains) if c % n_dev == d] for d in range(n_dev)]

        def worker(cs):
            return [(c, one(c)) for c in cs]

        with ThreadPoolExecutor(max_workers=n_dev) as pool:
            results = dict(r for part in pool.map(worker, by_device) for r in part)
    else:
        results = {c: one(c) for c in range(chains)}
    samples = {k: np.stack([results[c][0][k] for c in range(chains)])
               for k in results[0][0]}
    stats = {k: np.stack([results[c][1][k] for c in range(chains)]) for k in _FIELDS}
    return ChainDraws(samples, stats, chain_method, n_dev)
