"""Bad input (actions, parameters, stepping an ended episode, command-line arguments) gets a clear error naming it."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import econbench
from econbench.core import ActionError


@pytest.fixture
def game() -> gym.Env:
    env = gym.make("econbench/InvestmentOligopoly-v0").unwrapped
    env.reset(seed=0)
    return env


@pytest.fixture
def planner() -> gym.Env:
    env = gym.make("econbench/InvestmentLQ-Planner-v0").unwrapped
    env.reset(seed=0)
    return env


def test_wrong_shape(game: gym.Env, planner: gym.Env) -> None:
    with pytest.raises(ActionError, match=r"shape \(2,\), expected \(2, 1\)"):
        game.step({"firms": np.zeros(2)})
    with pytest.raises(ActionError, match=r"shape \(2,\), expected \(1,\)"):
        planner.step(np.zeros(2))


def test_out_of_range(game: gym.Env, planner: gym.Env) -> None:
    with pytest.raises(ActionError, match=r"out of range \[-1.0, 1.0\].*max 1.5"):
        game.step({"firms": np.array([[0.0], [1.5]])})
    with pytest.raises(ActionError, match=r"out of range \[-100.0, 100.0\]"):
        planner.step(np.array([-100.5]))


def test_nan_and_inf(game: gym.Env, planner: gym.Env) -> None:
    with pytest.raises(ActionError, match="NaN or infinity"):
        game.step({"firms": np.array([[np.nan], [0.0]])})
    with pytest.raises(ActionError, match="NaN or infinity"):
        planner.step(np.array([np.inf]))


def test_wrong_dtype(game: gym.Env, planner: gym.Env) -> None:
    with pytest.raises(ActionError, match="must be floating point, got dtype int64"):
        game.step({"firms": np.zeros((2, 1), dtype=np.int64)})
    with pytest.raises(ActionError, match="must be floating point"):
        planner.step(np.array(["1.0"]))


def test_wrong_keys(game: gym.Env) -> None:
    with pytest.raises(ActionError, match=r"keys \['households'\] do not match \['firms'\]"):
        game.step({"households": np.zeros((2, 1))})
    with pytest.raises(ActionError, match="must be a dict"):
        game.step(np.zeros((2, 1)))


def test_a_rejected_action_changes_nothing(game: gym.Env) -> None:
    before = game.view.batched.state.q.copy()
    with pytest.raises(ActionError):
        game.step({"firms": np.array([[np.nan], [0.0]])})
    np.testing.assert_array_equal(game.view.batched.state.q, before)
    assert int(game.view.batched.t[0]) == 0


def test_batched_core_validates_too() -> None:
    env = econbench.make_batched("InvestmentLQ-v0", n_envs=4, seed=0, n_firms=3)
    env.reset()
    with pytest.raises(ActionError, match=r"expected \(4, 3, 1\) = \(n_envs, n_agents, \*action_shape\)"):
        env.step({"firms": np.zeros((4, 3))})
    with pytest.raises(RuntimeError, match="reset"):
        econbench.make_batched("InvestmentLQ-v0").step({"firms": np.zeros((1, 10, 1))})
    # a group the caller checked (a role view's learner) still has its shape checked
    with pytest.raises(ActionError, match=r"expected \(4, 3, 1\)"):
        env.step({"firms": np.zeros((4, 3))}, checked=("firms",))


@pytest.mark.parametrize("n_envs", [1, 64])  # 1,200 and 76,800 consumer action entries: both ways of checking ranges
def test_discrete_ranges_are_checked_head_by_head(n_envs: int) -> None:
    """Every head's own bound, at the edge of each run of equal sizes (RBC consumers: [11]*10 + [5, 10])."""
    env = econbench.make_batched("RBCTax-v0", n_envs=n_envs, seed=0)
    env.reset()
    nvec = [g for g in env.groups if g.name == "consumers"][0].action.nvec
    good = {g.name: np.zeros((n_envs, g.n_agents, len(g.action.nvec)), dtype=np.int64) for g in env.groups}
    for head, n in enumerate(nvec):
        for value, ok in [(n - 1, True), (n, False), (-1, False)]:
            acts = {k: v.copy() for k, v in good.items()}
            acts["consumers"][n_envs - 1, 7, head] = value
            if ok:
                env.check_actions(acts)
            else:
                with pytest.raises(ActionError, match=r"group 'consumers' is out of range \[0, nvec\)"):
                    env.check_actions(acts)
    for group, n in [("firms", 30), ("government", 36)]:
        with pytest.raises(ActionError, match=rf"group '{group}' is out of range"):
            env.check_actions({**good, group: np.full_like(good[group], n)})


def test_vector_and_pettingzoo_views_validate() -> None:
    vec = gym.make_vec("econbench/InvestmentLQ-Planner-v0", num_envs=3)
    vec.reset(seed=0)
    with pytest.raises(ActionError, match=r"expected \(3, 1\)"):
        vec.step(np.zeros((2, 1)))
    par = econbench.parallel_env("InvestmentOligopoly-v0")
    par.reset(seed=0)
    with pytest.raises(ActionError, match=r"missing for \['firm_1'\]"):
        par.step({"firm_0": np.zeros(1)})
    with pytest.raises(ActionError, match="NaN"):
        par.step({"firm_0": np.zeros(1), "firm_1": np.array([np.nan])})


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="n_envs must be a positive integer"):
        econbench.make_batched("InvestmentLQ-v0", n_envs=0)
    with pytest.raises(ValueError, match="unknown backend 'jax'"):
        econbench.make_batched("InvestmentLQ-v0", backend="jax")
    with pytest.raises(ValueError, match="unknown dtype 'float16'"):
        econbench.make_batched("InvestmentLQ-v0", dtype="float16")
    with pytest.raises(ValueError, match="max_episode_steps"):
        gym.make_vec("econbench/InvestmentLQ-v0", num_envs=2, max_episode_steps=0)


def _states_equal(a: object, b: object) -> bool:
    import dataclasses

    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))


@pytest.mark.parametrize("bad", [np.array([4, 0]), np.array([0, -1]), np.array([0.0, 1.0])])
def test_a_rejected_role_action_leaves_every_generator_unchanged(bad: np.ndarray) -> None:
    """The other drivers follow ``random``, a policy with its own generator: a rejected learner action must not
    have drawn from it (nor from the env's), so the next good step equals a fresh env's first."""
    tried, fresh = (gym.make("econbench/EVCharging-Driver-v0", others="random").unwrapped for _ in range(2))
    tried.reset(seed=3)
    fresh.reset(seed=3)
    with pytest.raises(ActionError):
        tried.step(bad)
    assert _states_equal(tried.view.batched.state, fresh.view.batched.state)
    for action in ([1, 2], [0, 0], [0, 1], [0, 2]):  # the learner is busy after charging: only option 0
        a, b = tried.step(np.array(action)), fresh.step(np.array(action))
        np.testing.assert_array_equal(a[0]["observation"], b[0]["observation"])
        assert a[1] == b[1]
        assert _states_equal(tried.view.batched.state, fresh.view.batched.state)


def test_a_masked_role_action_is_rejected_before_the_others_act() -> None:
    """A busy driver may only choose option 0: another is an error naming the mask, raised before the other
    drivers' ``random`` policy draws, and with ``mask_violation="execute"`` it is executed (the dynamics ignore it)."""
    tried, fresh = (gym.make("econbench/EVCharging-Driver-v0", others="random").unwrapped for _ in range(2))
    for env in (tried, fresh):
        env.reset(seed=3)
        obs, *_ = env.step(np.array([1, 2]))
    assert obs["action_mask"][1:4].sum() == 0  # options 1-3 masked: the learner is on its way to charge
    with pytest.raises(
        ActionError,
        match=r"EVCharging-Driver-v0: group 'drivers' agent 0 \(env 0\) chose index 2 "
        r"for head 0, which its action mask forbids \(allowed 0\)",
    ):
        tried.step(np.array([2, 0]))
    for action in ([0, 0], [0, 1]):
        a, b = tried.step(np.array(action)), fresh.step(np.array(action))
        assert a[1] == b[1] and _states_equal(tried.view.batched.state, fresh.view.batched.state)
    lenient = gym.make("econbench/EVCharging-Driver-v0", others="random", mask_violation="execute").unwrapped
    lenient.reset(seed=3)
    lenient.step(np.array([1, 2]))
    lenient.step(np.array([2, 0]))


@pytest.mark.parametrize("task_id", econbench.task_ids())
def test_every_card_and_variant_validates(task_id: str) -> None:
    """Each card's own parameters lie in the domains its parameter class declares (discount 1 included where a
    game is undiscounted)."""
    econbench.make_batched(task_id, n_envs=2).reset(seed=0)


@pytest.mark.parametrize(
    "task_id, override, message",
    [
        ("InvestmentLQ-Planner-v0", {"beta": 1.5}, r"beta must be in \(0, 1\), got 1.5"),
        ("InvestmentLQ-v0", {"a1": float("nan")}, "a1 must be finite, got nan"),
        ("InvestmentOligopoly-v0", {"gamma": -12.0}, "gamma must be > 0, got -12.0"),
        ("InvestmentStochastic-v0", {"sigma": 0.0}, "sigma must be > 0"),
        ("CapitalGoods-v0", {"phi": float("inf")}, "phi must be finite, got inf"),
        ("CapitalGoodsGame-v0", {"beta": 1.0}, r"beta must be in \(0, 1\)"),
        ("EVCharging-v0", {"discount": 0.0}, r"discount must be in \(0, 1\]"),
        ("EVCharging-v0", {"type_price": [0.35, -0.55, 0.6]}, r"type_price must be >= 0 \(every value\)"),
        ("EVCharging-Operator-v0", {"energy": 0.0}, "energy must be > 0"),
        ("RBCTax-v0", {"tax_levels": [0.0, 0.5, 1.5]}, r"tax_levels must be in \[0, 1\]"),
        ("RICECooperation-v0", {"discount": 1.2}, r"discount must be in \(0, 1\]"),
        ("RICECooperation-v0", {"alpha": 1.0}, "alpha = 1"),
        ("InvestmentLQ-v0", {"beta": "high"}, "parameter beta must be a number, got 'high'"),
    ],
)
def test_parameters_are_validated_when_a_task_is_made(task_id: str, override: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        econbench.make_task(task_id, **override)


@pytest.mark.parametrize(
    "task_id, override, counts",
    [
        ("EVCharging-v0", {"n_drivers": 10**12}, "n_drivers=1000000000000"),
        ("EVCharging-v0", {"grid": 10**6}, "grid=1000000"),
        ("InvestmentLQ-v0", {"n_firms": 10**12}, "n_firms=1000000000000"),
        ("RBCTax-v0", {"n_consumers": 10**10}, "n_consumers=10000000000"),
    ],
)
def test_sizes_beyond_memory_are_refused_with_the_estimate(task_id: str, override: dict[str, int], counts: str) -> None:
    """Before any allocation, with the estimate and the machine's memory, not a MemoryError from inside the dynamics."""
    with pytest.raises(ValueError, match=rf"{counts}.* would need about [0-9.]+ [TPE]iB of memory .*this machine has"):
        econbench.make_task(task_id, **override)


def test_n_envs_beyond_memory_is_refused_with_the_estimate() -> None:
    with pytest.raises(ValueError, match=r"n_envs=10000000000 economies of InvestmentLQ-v0 \(.* each\) would need"):
        econbench.make_batched("InvestmentLQ-v0", n_envs=10**10)


def test_the_core_refuses_to_step_an_ended_episode() -> None:
    env = econbench.make_batched("InvestmentLQ-Planner-v0", n_envs=3, seed=0)
    env.reset()
    act = {"planner": np.zeros((3, 1, 1))}
    for _ in range(env.horizon):
        env.step(act)
    t = env.t.copy()
    with pytest.raises(RuntimeError, match=r"InvestmentLQ-Planner-v0: the episode of envs \[0, 1, 2\] has ended"):
        env.step(act)
    np.testing.assert_array_equal(env.t, t)  # nothing moved
    env.reset(mask=np.array([True, False, False]))
    with pytest.raises(RuntimeError, match=r"episode of envs \[1, 2\] has ended"):
        env.step(act)
    env.reset(mask=np.array([False, True, True]))
    env.step(act)
    env.step(act, past_end=False)
    assert env.step(act, past_end=True)[3].tolist() == [False] * 3  # the explicit way on, for callers that discard


@pytest.mark.parametrize(
    "task_id",
    ["econbench/InvestmentLQ-Planner-v0", "econbench/EVCharging-Batch-v0", "econbench/InvestmentOligopoly-v0"],
)
def test_the_single_env_refuses_to_step_an_ended_episode(task_id: str) -> None:
    env = gym.make(task_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(env.unwrapped.task.horizon):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
    assert term or trunc
    with pytest.raises(RuntimeError, match="the episode has ended .*call reset"):
        env.step(env.action_space.sample())
    env.reset(seed=1)
    env.step(env.action_space.sample())


@pytest.mark.parametrize(
    "task_id", ["econbench/EVCharging-Batch-v0", "econbench/RICECooperation-v0", "econbench/EVCharging-Operator-v0"]
)
def test_a_game_that_ends_by_itself_is_not_also_truncated(task_id: str) -> None:
    """Gymnasium's TimeLimit flagged the natural last step of these games truncated as well."""
    env = gym.make(task_id, mask_violation="execute")  # uniform samples ignore the masks
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(env.unwrapped.task.horizon):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
    assert term and not trunc


def test_the_vector_env_without_autoreset_refuses_to_step_an_ended_episode() -> None:
    vec = gym.make_vec("econbench/InvestmentLQ-Planner-v0", num_envs=2, max_episode_steps=2, autoreset_mode="Disabled")
    vec.reset(seed=0)
    for _ in range(2):
        vec.step(np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match=r"envs \[0, 1\] are done"):
        vec.step(np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="has ended"):  # its core too
        vec.unwrapped.view.batched.step({"planner": np.zeros((2, 1, 1))})


def test_pettingzoo_checks_each_agents_dtype_on_its_own() -> None:
    """Stacking a True with a float made a valid-looking float: a continuous agent's True is refused, whatever the
    others pass, and so is an integer index given as a float."""
    par = econbench.parallel_env("InvestmentOligopoly-v0")
    par.reset(seed=0)
    for other in (np.array([0.5]), np.array([True])):
        with pytest.raises(ActionError, match="action of firm_0 must be floating point, got dtype bool"):
            par.step({"firm_0": np.array([True]), "firm_1": other})
    ev = econbench.parallel_env("EVCharging-v0")
    ev.reset(seed=0)
    acts = {a: np.array([0, 0]) for a in ev.agents}
    with pytest.raises(ActionError, match=r"action of driver_7 must be integer .*got dtype float64"):
        ev.step({**acts, "driver_7": np.array([1.0, 0.0])})


def test_pettingzoo_names_a_list_and_a_scalar_for_several_heads() -> None:
    par = econbench.parallel_env("InvestmentOligopoly-v0")
    par.reset(seed=0)
    with pytest.raises(ActionError, match="actions must be a dict keyed by agent name, got list"):
        par.step([np.zeros(1), np.zeros(1)])
    ev = econbench.parallel_env("EVCharging-v0")
    ev.reset(seed=0)
    acts = {a: np.array([0, 0]) for a in ev.agents}
    with pytest.raises(ActionError, match=r"action of driver_3 has shape \(\), expected \(2,\) \(one value per head"):
        ev.step({**acts, "driver_3": 1})
    par.step({"firm_0": 0.1, "firm_1": np.array([0.2])})  # a scalar still fits a one-value action


# ---------------------------------------------------------------------------- the command line
def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from econbench.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _no_training(*args: object, **kwargs: object) -> None:
    raise AssertionError("training started before the arguments were checked")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "--task", "InvestmentOligopoly-Firm-v0", "--param", "others=bogus"], "unknown policy 'bogus'"),
        (["solve", "--task", "InvestmentLQ-Planner-v0", "--param", "beta=1.5"], r"beta must be in \(0, 1\), got 1.5"),
        (["solve", "--task", "InvestmentLQ-Planner-v0", "--param", "gamma=NaN"], "gamma must be finite"),
        (["evaluate", "--task", "InvestmentLQ-Planner-v0", "--backend", "cupy"], "backend 'cupy' is unavailable"),
        (
            ["gap", "--task", "InvestmentOligopoly-v0", "--method", "trained", "--budget", "-5"],
            "--budget must be positive",
        ),
        (
            ["gap", "--task", "InvestmentOligopoly-v0", "--method", "trained", "--agent", "2"],
            r"--agent 2 is out of range: group 'firms' has agents 0..1",
        ),
        (
            ["gap", "--task", "InvestmentOligopoly-v0", "--method", "trained", "--agent", "-1"],
            "--agent -1 is out of range",
        ),
        (
            ["gap", "--task", "InvestmentOligopoly-v0", "--method", "trained", "--group", "banks"],
            "has no group 'banks'",
        ),
    ],
)
def test_cli_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    import econbench.backend
    import econbench.learn.trained_gap

    monkeypatch.setattr(econbench.backend, "_cupy_usable", lambda: (False, "CuPy is not installed"))  # GPU or not
    monkeypatch.setattr(econbench.learn.trained_gap, "trained_best_response_gap", _no_training)
    monkeypatch.setattr("econbench.solve.describe_solution", _no_training)
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and not out, err
    assert re.search(message, err), err


def test_bench_json_into_a_missing_folder_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    base = [
        "bench",
        "--quick",
        "--task",
        "econbench/InvestmentOligopoly-v0",
        "--store",
        str(store),
        "--no-page",
        "--no-wandb",
    ]
    code, _, err = _cli(capsys, *base, "--json", str(tmp_path / "missing" / "out.json"))
    assert code == 2 and "no such folder" in err and err.count("\n") == 1
    code, _, err = _cli(capsys, *base, "--json", str(tmp_path))
    assert code == 2 and "is a folder" in err
    assert not store.exists()  # nothing ran


def test_evaluate_plot_into_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = _cli(
        capsys,
        "evaluate",
        "--task",
        "InvestmentLQ-Planner-v0",
        "--policy",
        "freeze",
        "--seeds",
        "0",
        "--episodes",
        "2",
        "--plot",
        str(tmp_path),
    )
    target = tmp_path / "InvestmentLQ-Planner-v0-freeze.png"
    assert code == 0 and f"plot: {target}" in out
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
