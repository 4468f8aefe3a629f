"""Test configuration: float64 everywhere in the test process (the library itself never flips it)."""

import jax
import pytest

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def key():
    """A fixed PRNG key; tests derive named subkeys from it with ``jax.random.fold_in``."""
    return jax.random.key(20170101)
