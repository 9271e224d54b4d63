"""Test identity (DESIGN "Shared conventions"): one cocotb test x one parameter set x one simulator.

The id `<sim>/<paramset>/<module>.<test>` names the test everywhere: its pytest id (so `-k <id>` selects it),
its artefact folder `build/<sim>/<paramset>/<module>.<test>/`, its generator `random.Random(f"{SEED}:{id}")`
and its rerun command. The runner hands sim and parameter set to the simulation through the environment.
"""

ENV_SIM = "VIRTIO_TEST_SIM"
ENV_PARAMSET = "VIRTIO_TEST_PARAMSET"


def test_identity(sim: str, paramset: str, test_module: str, testcase: str) -> str:
    """`<sim>/<paramset>/<module>.<test>`, with the module's last dotted component."""
    return f"{sim}/{paramset}/{test_module.rsplit('.', 1)[-1]}.{testcase}"


def rerun_command(test_id: str, seed: int, sim: str) -> str:
    """The one command that reruns a test alone, with waves."""
    return f"make waves TEST='{test_id}' SEED={seed} SIM={sim}"


test_identity.__test__ = False  # a helper, not a pytest test, wherever it is imported
