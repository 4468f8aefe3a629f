"""Test configuration: float64 everywhere in the test process (the library itself never flips it),
and the seed offset ``THERMOINFER_TEST_SEED`` (tests/_stats.py, tests/README.md)."""

import sys
from pathlib import Path

import jax
import pytest

# pytest puts tests/ on sys.path itself (rootdir-relative "prepend" imports); this line keeps
# ``from _stats import seed`` working under --import-mode=importlib too.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from _stats import SEED_OFFSET, seed  # noqa: E402

jax.config.update("jax_enable_x64", True)


def pytest_report_header(config):
    return (f"THERMOINFER_TEST_SEED={SEED_OFFSET} (every test seed s is s + 1000003 * "
            f"{SEED_OFFSET}; see tests/README.md)")


@pytest.fixture
def key():
    """A fixed PRNG key; tests derive named subkeys from it with ``jax.random.fold_in``."""
    return jax.random.key(seed(20170101))
