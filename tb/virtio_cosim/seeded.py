"""cocotb side of the seed convention: each test gets its own generator and prints its seed.

    @seeded_test()
    async def test_something(dut, rng): ...

The generator is `virtio_golden.seeds.test_rng(SEED, test_id)` with the test id of virtio_cosim.identity, built
from the simulator and parameter set that virtio_cosim.runner puts in the environment, so a test draws the same
numbers whether it runs alone or with others.
"""

import functools
import os
import random
from typing import Any, Awaitable, Callable

import cocotb

from virtio_golden.seeds import session_seed, test_rng

from .coverage import export_functional
from .identity import ENV_PARAMSET, ENV_SIM, rerun_command, test_identity


def seeded_test(**test_options: Any) -> Callable:
    """`cocotb.test(**test_options)` that passes the test its generator as the argument after `dut`."""

    def decorate(func: Callable[..., Awaitable[None]]) -> Any:
        @functools.wraps(func)
        async def with_rng(dut: Any, *args: Any, **kwargs: Any) -> None:
            sim = os.environ.get(ENV_SIM, cocotb.SIM_NAME.lower())
            test_id = test_identity(sim, os.environ.get(ENV_PARAMSET, "default"), func.__module__, func.__name__)
            seed = session_seed()
            dut._log.info("seed %d, test %s (rerun: %s)", seed, test_id, rerun_command(test_id, seed, sim))
            rng: random.Random = test_rng(seed, test_id)
            try:
                await func(dut, rng, *args, **kwargs)
            finally:
                export_functional()

        return cocotb.test(**test_options)(with_rng)

    return decorate
