"""virtio_golden.seeds: the session seed from env SEED and the per-test generators."""

import pytest

from virtio_golden.seeds import DEFAULT_SEED, session_seed, test_rng

pytestmark = pytest.mark.model


def test_same_seed_and_id_give_the_same_numbers() -> None:
    assert test_rng(7, "a").random() == test_rng(7, "a").random()
    assert test_rng(7, "a").random() != test_rng(7, "b").random()
    assert test_rng(7, "a").random() != test_rng(8, "a").random()


@pytest.mark.parametrize(("value", "seed"), [(None, DEFAULT_SEED), ("", DEFAULT_SEED), ("1234", 1234), (" 42 ", 42)])
def test_session_seed_reads_env_seed(monkeypatch: pytest.MonkeyPatch, value: str | None, seed: int) -> None:
    if value is None:
        monkeypatch.delenv("SEED", raising=False)
    else:
        monkeypatch.setenv("SEED", value)
    assert session_seed() == seed


def test_a_non_integer_seed_is_refused_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEED", "abc")
    with pytest.raises(ValueError, match=r"^SEED must be an integer such as SEED=1234, not 'abc'\.$"):
        session_seed()


def test_the_rng_fixture_is_this_tests_own_generator(rng, request: pytest.FixtureRequest) -> None:
    assert rng.random() == test_rng(session_seed(), request.node.nodeid).random()
