"""Cards, registration and task construction."""

from __future__ import annotations

import gymnasium as gym
import pytest

import econbench
from econbench.cards import UnknownTaskError, load_card
from econbench.registry import make_task
from tests.conftest import ALL_IDS, MULTI_IDS, SINGLE_IDS

EXPECTED = {
    "econbench/InvestmentLQ-v0",
    "econbench/InvestmentLQ-Planner-v0",
    "econbench/InvestmentOligopoly-v0",
    "econbench/InvestmentOligopoly-Firm-v0",
    "econbench/InvestmentStochastic-v0",
    "econbench/InvestmentStochastic-Planner-v0",
}


def test_every_expected_id_is_registered() -> None:
    assert EXPECTED <= set(ALL_IDS)
    for task_id in ALL_IDS:
        spec = gym.spec(task_id)
        assert spec.vector_entry_point is not None
        assert spec.max_episode_steps is None  # no TimeLimit: the env ends at its horizon, which horizon= sets


def test_single_and_multi_agent_split() -> None:
    assert "econbench/InvestmentLQ-Planner-v0" in SINGLE_IDS
    assert "econbench/InvestmentOligopoly-Firm-v0" in SINGLE_IDS
    assert "econbench/InvestmentOligopoly-v0" in MULTI_IDS


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_card_documents_the_task(task_id: str) -> None:
    card = load_card(task_id)
    task = make_task(task_id)
    for key in ("id", "summary", "description", "factory", "params", "sources", "protocol", "groups"):
        assert key in card, f"{task_id} card lacks {key}"
    assert card["id"] == task_id
    assert set(card["groups"]) == {g.name for g in task.groups}
    for g in task.groups:
        assert card["groups"][g.name]["agent_name"] == g.agent_name
    proto = card["protocol"]
    assert proto["episodes_per_seed"] > 0 and len(proto["eval_seeds"]) > 0
    assert proto["reference_policy"] in task.policies
    assert ("exact" in task.policies) == ("exact" in card.get("reference_scores", {}))  # exact solutions are scored
    assert task.horizon == card.get("max_episode_steps", card["params"].get("horizon"))


def test_module_prefixed_id_imports_the_package() -> None:
    env = gym.make("econbench:econbench/InvestmentLQ-Planner-v0")
    assert env.unwrapped.task.name == "InvestmentLQ-Planner-v0"


def test_unknown_id_gets_a_clear_error() -> None:
    with pytest.raises(UnknownTaskError, match="unknown task 'NoSuchTask-v0'; known tasks: .*InvestmentLQ-v0"):
        make_task("econbench/NoSuchTask-v0")


def test_parameter_overrides_and_typos() -> None:
    assert make_task("InvestmentOligopoly-v0", n_firms=10).group("firms").n_agents == 10
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) \['n_frims'\]"):
        gym.make("econbench/InvestmentOligopoly-v0", n_frims=3)
    # Python's own phrasing for the first unknown name: callers probing keywords (TorchRL's frameskip) read it
    pattern = r"got an unexpected keyword argument 'frameskip' \(unknown parameter\(s\) \['frameskip', 'n_frims'\]\); valid: \[.*'n_firms'"
    with pytest.raises(TypeError, match=pattern) as err:
        make_task("InvestmentOligopoly-v0", frameskip=4, n_frims=3)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="n_firms must be an integer"):
        make_task("InvestmentOligopoly-v0", n_firms=2.5)
    with pytest.raises(ValueError, match="n_firms must be >= 1"):
        make_task("InvestmentLQ-v0", n_firms=0)


def test_role_view_others_validation() -> None:
    with pytest.raises(KeyError, match="unknown policy 'nonsense'"):
        make_task("InvestmentOligopoly-Firm-v0", others="nonsense")
    with pytest.raises(TypeError, match="not a role view"):
        make_task("InvestmentOligopoly-v0", others="exact")


def test_make_batched_shortcut() -> None:
    env = econbench.make_batched("InvestmentLQ-v0", n_envs=3, seed=0, n_firms=4)
    obs = env.reset()
    assert obs["firms"].shape == (3, 4, 2)


def test_generated_card_values_read_back() -> None:
    """Cards' generated tables (learned scores) must parse: booleans in TOML's lower case, nested tables, quotes."""
    import tomllib

    from econbench.cards import toml_value

    for v in (True, False, {"opaque_prices": True, "n": 5}, {}, [1.5, -2.25e-7], 'say "hi" \\ bye', 3):
        assert tomllib.loads(f"a = {toml_value(v)}")["a"] == v
