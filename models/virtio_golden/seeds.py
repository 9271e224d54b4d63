"""Seeds: one session seed, one private generator per test (DESIGN "Shared conventions").

Every test draws from `random.Random(f"{seed}:{test_id}")`, so a test reproduces alone, whatever ran before it.
The session seed comes from the environment variable SEED; without it the seed is DEFAULT_SEED, the seed of
`make test`. `make regress` draws a fresh seed from the clock and prints it.
"""

import os
import random

DEFAULT_SEED = 1
"""The seed when SEED is unset: `make test` and a bare `pytest` are deterministic."""


def session_seed() -> int:
    """The session seed: env SEED as an integer, or DEFAULT_SEED when SEED is unset or empty."""
    text = os.environ.get("SEED", "").strip()
    if not text:
        return DEFAULT_SEED
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"SEED must be an integer such as SEED=1234, not {text!r}.") from None


def test_rng(seed: int, test_id: str) -> random.Random:
    """The private generator of one test: the same seed and test id always give the same sequence."""
    return random.Random(f"{seed}:{test_id}")


test_rng.__test__ = False  # a helper, not a pytest test, wherever it is imported
