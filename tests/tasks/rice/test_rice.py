"""RICE-N: the reference's traces, the competition metrics, the protocols, upstream's defects behind options, bad input."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import econbench
from econbench.core import ActionError, BatchedEnv
from econbench.envs.rice.dynamics import obs_offsets
from econbench.envs.rice.metrics import competition_metrics
from econbench.registry import make_task
from tests.tasks.rice.rice_replay import FIXTURES, PROTOCOL_IDS, load, replay

TRACES = ["ref_zeros.json", "ref_mid.json", "ref_random.json.gz", "ref_negotiation_random.json.gz"]
NONE, BILATERAL, CLUB = PROTOCOL_IDS["none"], PROTOCOL_IDS["bilateral"], PROTOCOL_IDS["club"]
N, L = 27, 10


def _manifest_metrics() -> dict[str, dict[str, float]]:
    out = {}
    for name in ("manifest.json", "manifest_econbench.json"):
        files = json.loads((FIXTURES / name).read_text())["files"]
        for trace, entry in files.items():
            key = trace if (FIXTURES / trace).is_file() else trace + ".gz"
            out[key] = entry["metrics"]
    return out


def _actions(n_envs: int, heads: int, **fixed: int) -> np.ndarray:
    a = np.zeros((n_envs, N, heads), dtype=np.int64)
    for head, value in fixed.items():
        a[..., int(head.lstrip("h"))] = value
    return a


# ---------------------------------------------------------------------------- conformance
@pytest.mark.parametrize("trace", TRACES)
@pytest.mark.parametrize(
    "mode", [{}, {"reference_rounding": True}, {"dtype": "float32"}], ids=["float64", "reference_rounding", "float32"]
)
def test_replays_the_reference_trace(trace: str, mode: dict[str, Any]) -> None:
    """Every step within the tolerances of docs/models/rice.md §10; negotiation outcomes and mask counts exact."""
    report = replay(load(trace), **mode)
    assert not report.failures, report.failures
    assert {"temperature", "carbon", "capital", "gross_output", "balance", "imports", "consumption", "obs"} <= set(
        report.worst
    )
    if "negotiation" in trace:
        assert {"promised_mitigation_rate", "proposal_decisions", "min_mitigation", "masked_levels"} <= set(
            report.worst
        )


def test_reference_rounding_follows_the_float32_reference_more_closely() -> None:
    plain, rounded = replay(load("ref_mid.json")), replay(load("ref_mid.json"), reference_rounding=True)
    assert (
        rounded.worst["balance"] < plain.worst["balance"] / 2
    )  # balances compound rounding (docs/models/rice.md §9.2)


@pytest.mark.parametrize("trace", TRACES)
def test_competition_metrics_match_the_reference(trace: str) -> None:
    """scripts/evaluate_submission.py's metrics from a replay of the trace's actions."""
    data = load(trace)
    expected = _manifest_metrics()[trace]
    task = make_task(BILATERAL if data["negotiation_on"] else NONE)
    steps = iter(data["steps"])

    def replay_policy(obs: Any) -> np.ndarray:
        a = np.asarray(next(steps)["actions"], dtype=np.int64)
        out = np.zeros((1, N, len(task.groups[0].action.nvec)), dtype=np.int64)
        out[0, :, : a.shape[1]] = a
        return out

    got = competition_metrics(task, {"regions": replay_policy})
    tight = (
        "temperature_rise",
        "final_carbon_mass_at",
        "capital_sum",
        "production_sum",
        "gross_output_sum_activity_steps",
        "investment_sum",
        "abatement_cost_sum",
        "climate_index",
        "economic_index",
    )
    for key in tight:
        assert got[key][0] == pytest.approx(expected[key], rel=1e-5, abs=1e-6), key
    for key in (
        "episode_reward_sum",
        "consumption_sum",
    ):  # include ill-conditioned regions' noise (docs/models/rice.md §9.1)
        assert got[key][0] == pytest.approx(expected[key], rel=2e-2), key


def test_region_order_names_and_calibration() -> None:
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    p = make_task(NONE).params
    assert list(p.region_files) == manifest["region_file_order"]
    env = econbench.parallel_env("RICECooperation-v0")
    assert env.possible_agents == [f"region_{i}" for i in range(N)]
    obs, _ = env.reset(seed=0)
    # capital block of the public features holds xK_0 / 1e4 in region order (11.yml first: 0.239419592)
    at = N + 8
    assert at == obs_offsets(p)["economy"]
    np.testing.assert_allclose(obs["region_0"]["observation"][at : at + N] * 1e4, p.initial_capital)
    assert obs["region_3"]["observation"][3] == 1.0  # own one-hot id


# ---------------------------------------------------------------------------- protocols
def _loop_minimum(promised: np.ndarray, requested: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """Spec section 6, one region and partner at a time."""
    out = np.zeros(N)
    for i in range(N):
        for j in range(N):
            out[i] = max(out[i], promised[i, j] * decisions[j, i], requested[j, i] * decisions[i, j])
    return out


def test_bilateral_protocol_sets_minimum_mitigation_and_masks() -> None:
    rng = np.random.default_rng(0)
    task = make_task(BILATERAL)
    heads = len(task.groups[0].action.nvec)
    env = BatchedEnv(task, 3)
    env.reset(seed=0)
    proposal = _actions(3, heads)
    proposal[..., 57:111] = rng.integers(0, L, (3, N, 54))
    env.step({"regions": proposal})
    evaluation = _actions(3, heads)
    evaluation[..., 111:138] = rng.integers(0, 2, (3, N, 27))
    env.step({"regions": evaluation})
    s = env.state
    for e in range(3):
        promised, requested = proposal[e, :, 57:111:2] / L, proposal[e, :, 58:111:2] / L
        decisions = evaluation[e, :, 111:138] * (1 - np.eye(N))
        np.testing.assert_allclose(s.min_mitigation[e], _loop_minimum(promised, requested, decisions))
    masks = env.action_masks()["regions"]
    masked = (masks[..., L : 2 * L] == 0).sum(axis=-1)
    np.testing.assert_array_equal(masked, np.round(s.min_mitigation * L))
    assert masks[..., :L].all() and masks[..., 2 * L :].all()  # only mitigation is restricted
    # the climate-economy step: a mitigation below the agreed minimum is an error naming the mask
    e, i = np.argwhere(masked > 0)[0]
    act = _actions(3, heads)
    act[..., 1] = np.round(s.min_mitigation * L)
    act[e, i, 1] = masked[e, i] - 1
    with pytest.raises(ActionError, match="mask forbids"):
        env.step({"regions": act})
    act[e, i, 1] = masked[e, i]
    env.step({"regions": act})  # at the minimum: allowed
    np.testing.assert_allclose(env.state.mitigation, act[..., 1] / L)


def test_mask_violation_execute_is_upstreams_advisory_mask() -> None:
    task = make_task(BILATERAL)
    heads = len(task.groups[0].action.nvec)
    env = BatchedEnv(task, 1, mask_violation="execute")
    env.reset(seed=0)
    act = _actions(1, heads)
    act[..., 57:111] = 9  # everyone promises and requests 0.9
    env.step({"regions": act})
    act = _actions(1, heads)
    act[..., 111:138] = 1
    env.step({"regions": act})
    assert (env.action_masks()["regions"][0, :, L : 2 * L].sum(axis=-1) == 1).all()
    env.step({"regions": _actions(1, heads)})  # mitigation 0 despite the agreements: executed
    assert (env.state.mitigation == 0).all()


def test_climate_club_constrains_members_only() -> None:
    task = make_task(CLUB)
    heads = len(task.groups[0].action.nvec)
    assert heads == 58 and task.horizon == 40
    env = BatchedEnv(task, 2)
    env.reset(seed=0)
    vote = _actions(2, heads)
    vote[0, :5, 57] = 1  # env 0: regions 0-4 join
    vote[1, 0, 57] = 1  # env 1: a club of one does not form (club_min_members = 2)
    env.step({"regions": vote})
    masks = env.action_masks()["regions"]
    mit = masks[..., L : 2 * L]
    assert (mit[0, :5, :5] == 0).all() and mit[0, :5, 5:].all()  # members: mitigation >= 0.5
    assert mit[0, 5:].all() and mit[1].all()  # non-members and the unformed club: free
    tariff = masks[0, :, 3 * L : (3 + N) * L].reshape(N, N, L)  # [imposer, target, level]
    assert (tariff[:5, 5:, 3] == 1).all() and (tariff[:5, 5:].sum(-1) == 1).all()  # common tariff 0.3 on outsiders
    assert (tariff[:5, :5, 0] == 1).all() and (tariff[:5, :5].sum(-1) == 1).all()  # free trade inside
    assert tariff[5:].all()
    obs = env.observe()["regions"]
    assert obs[0, 7, -N:].tolist() == [1.0] * 5 + [0.0] * (N - 5)  # membership is public
    act = _actions(2, heads)
    act[:, :, 1] = 5
    act[0, :5, 3 : 3 + N] = 3
    for i in range(5):
        act[0, i, 3 + np.arange(5)] = 0
    env.step({"regions": act})
    np.testing.assert_allclose(env.state.tariffs[0, :5, 5:], 0.3)
    bad = act.copy()
    bad[0, 0, 3 + 6] = 0  # a member drops its tariff on an outsider
    env.step({"regions": vote})
    with pytest.raises(ActionError, match="head 9"):
        env.step({"regions": bad})


@pytest.mark.parametrize("task_id", [NONE, BILATERAL, CLUB])
def test_named_policies_respect_the_masks_on_every_protocol(task_id: str) -> None:
    task = make_task(task_id)
    for name in task.policies:
        m = competition_metrics(task, name, n_envs=2)
        assert np.isfinite(m["episode_reward_sum"]).all()
    # uniform policies do the same whatever the protocol: every region agrees to what it does anyway
    assert competition_metrics(task, "mitigation_5")["temperature_rise"][0] == pytest.approx(
        competition_metrics(make_task(NONE), "mitigation_5")["temperature_rise"][0], rel=1e-12
    )


def test_negotiation_metrics_count_carried_steps_unless_activity_only() -> None:
    full = competition_metrics(make_task(BILATERAL), "bau")
    activity = competition_metrics(make_task(BILATERAL), "bau", activity_only=True)
    assert full["gross_output_sum_activity_steps"][0] == pytest.approx(activity["gross_output_sum_activity_steps"][0])
    assert (
        full["capital_sum"][0] > 2.5 * activity["capital_sum"][0]
    )  # docs/models/rice.md §9.10: carried values counted ~3x


# ---------------------------------------------------------------------------- upstream defects behind options
def _mid_run(**params: Any) -> BatchedEnv:
    trace = load("ref_mid.json")
    env = BatchedEnv(make_task(NONE, **params), 1)
    env.reset(seed=0)
    for step in trace["steps"]:
        env.step({"regions": np.asarray(step["actions"], dtype=np.int64)[None]})
    return env


def test_debt_ratio_formula_option() -> None:
    """10 B / K0 (the CPU env since e7c118e, the default) against B / (10 K0) (earlier, and the CUDA port)."""
    trace = load("ref_mid.json")
    last = np.asarray(trace["steps"][-1]["state"]["scaled_imports"])
    new, old = _mid_run(), _mid_run(debt_ratio_formula="B/(10K0)")
    np.testing.assert_allclose(new.state.imports[0], last, rtol=2e-2, atol=1e-3 * np.abs(last).max())
    assert (
        np.abs(old.state.imports[0] - last).max() > 1e-2 * np.abs(last).max()
    )  # the old form barely restricts debtors
    assert (old.state.debt_ratio <= -0.99).sum() < (new.state.debt_ratio <= -0.99).sum()  # fewer debtors cut off


def test_tariff_revenue_option() -> None:
    kept, rebated = _mid_run(), _mid_run(tariff_revenue="rebated")
    assert (kept.state.tariff_revenue > 0).any()
    assert (rebated.state.consumption >= kept.state.consumption - 1e-12).all()
    assert (rebated.state.consumption > kept.state.consumption).any()


def test_full_rate_level_makes_rate_one_reachable() -> None:
    task = make_task(NONE, full_rate_level=True)
    assert task.groups[0].action.nvec == (11,) * 57
    env = BatchedEnv(task, 1)
    env.reset(seed=0)
    env.step({"regions": _actions(1, 57, h1=10)})
    assert (env.state.mitigation == 1.0).all()
    p = task.params
    # carbon: only land emissions enter at full mitigation
    expected = np.asarray(p.phi_m).reshape(3, 3) @ np.asarray(p.initial_carbon) + np.asarray(p.b_m) * p.e_l0
    np.testing.assert_allclose(env.state.carbon[0], expected, rtol=1e-12)


def test_out_of_range_indices_are_errors_unless_executed() -> None:
    env = BatchedEnv(make_task(NONE), 1)
    env.reset(seed=0)
    with pytest.raises(ActionError, match="out of range"):
        env.step({"regions": _actions(1, 57, h1=10)})
    lenient = BatchedEnv(make_task(NONE, out_of_range="execute"), 1)
    lenient.reset(seed=0)
    lenient.step({"regions": _actions(1, 57, h1=10)})  # upstream divides any index by the levels
    assert (lenient.state.mitigation == 1.0).all()
    with pytest.raises(ActionError, match="negative"):
        lenient.step({"regions": _actions(1, 57, h1=-1)})


@pytest.mark.parametrize("shift", [1.0, 0.0])
def test_utility_shift_is_a_parameter(shift: float) -> None:
    """Upstream's "+1" (_SMALL_NUM = 1.0, docs/models/rice.md §9.9) against the plain CRRA utility of consumption per worker."""
    task = make_task(NONE, utility_shift=shift)
    env = BatchedEnv(task, 1)
    env.reset(seed=0)
    env.step({"regions": np.asarray(load("ref_mid.json")["steps"][0]["actions"], dtype=np.int64)[None]})
    w, c, alpha = np.asarray(task.params.initial_population) / 1000.0, env.state.consumption[0], task.params.alpha
    np.testing.assert_allclose(env.state.utility[0], w * ((c / w + shift) ** (1 - alpha) - 1) / (1 - alpha), rtol=1e-12)


# ---------------------------------------------------------------------------- batching and bad input
def test_batched_envs_match_single_envs_and_partial_resets() -> None:
    rng = np.random.default_rng(3)
    task = make_task(BILATERAL)
    heads = len(task.groups[0].action.nvec)
    acts = rng.integers(0, 2, (12, 3, N, heads))
    batch = BatchedEnv(task, 3, mask_violation="execute")
    batch.reset(seed=0)
    singles = [BatchedEnv(task, 1, mask_violation="execute") for _ in range(3)]
    for s in singles:
        s.reset(seed=0)
    for k in range(12):
        if k == 4:  # env 1 restarts at a proposal stage while the others are mid-round
            batch.reset(mask=np.array([False, True, False]))
            singles[1].reset(seed=0)
        batch.step({"regions": acts[k]})
        for e, s in enumerate(singles):
            s.step({"regions": acts[k][e : e + 1]})
    for e, s in enumerate(singles):
        np.testing.assert_allclose(batch.state.capital[e], s.state.capital[0], rtol=1e-13)
        np.testing.assert_allclose(batch.state.min_mitigation[e], s.state.min_mitigation[0])
        assert batch.state.stage[e] == s.state.stage[0]
    assert batch.state.stage[0] != batch.state.stage[1]


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((1, N, 56), dtype=np.int64), "shape"),
        (np.zeros((1, N, 57)), "integer"),
        (np.full((1, N, 57), -1, dtype=np.int64), "out of range"),
    ],
)
def test_bad_actions_raise_clear_errors(bad: np.ndarray, message: str) -> None:
    env = BatchedEnv(make_task(NONE), 1)
    env.reset(seed=0)
    with pytest.raises(ActionError, match=message):
        env.step({"regions": bad})


def test_bad_options_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown negotiation protocol 'summit'"):
        BatchedEnv(make_task(NONE, protocol="summit"), 1)
    with pytest.raises(ValueError, match="needs 60 env steps"):
        make_task(NONE, protocol="bilateral")
    with pytest.raises(ValueError, match="tariff_revenue must be one of"):
        make_task(NONE, tariff_revenue="kept")
    with pytest.raises(ValueError, match="club_tariff must be a rate"):
        make_task(CLUB, club_tariff=1.5)
    with pytest.raises(TypeError, match="unknown parameter"):
        make_task(NONE, negotiation_on=True)


def test_region_view_one_learner_among_fixed_rules() -> None:
    import gymnasium as gym

    env = gym.make("econbench/RICECooperation-Region-v0", others="mitigation_5")
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == (1043,) and obs["action_mask"].shape == (570,)
    total = 0.0
    for _ in range(20):
        obs, reward, term, trunc, _ = env.step(np.zeros(57, dtype=np.int64))
        total += reward
    assert term
    batched = env.unwrapped.view.batched
    assert batched.state.mitigation[0, 0] == 0.0 and (batched.state.mitigation[0, 1:] == 0.5).all()
    assert total > 0.0


# ---------------------------------------------------------------------------- figure and command line
def test_rollout_figure_and_series(tmp_path: Any) -> None:
    from econbench.envs.rice.figure import rice_series

    task = make_task(BILATERAL)
    run = rice_series(task, "mitigation_5")
    assert run.years.tolist() == [2020 + 5 * k for k in range(20)]  # one row per climate-economy step
    m = competition_metrics(task, "mitigation_5")
    assert run.climate_index == pytest.approx(float(m["climate_index"][0]))
    assert run.economic_index == pytest.approx(float(m["economic_index"][0]))
    assert (run.mitigation == 0.5).all()
    assert task.figure is not None and task.figure.target == "econbench.envs.rice.figure:plot_rice_rollout"
    path = task.figure(task, ["bau", "mitigation_5"], tmp_path / "rice.png")
    assert path.stat().st_size > 20_000


def test_cli_evaluate_reports_the_competition_metrics(capsys: Any) -> None:
    from econbench.cli import main

    assert main(["evaluate", "--task", CLUB, "--policy", "mitigation_7", "--json"]) == 0
    text = capsys.readouterr().out
    out = json.loads(text[text.index("{") :])
    task = make_task(CLUB)
    expected = competition_metrics(task, "mitigation_7")
    assert out["competition_metrics"]["temperature_rise"] == pytest.approx(float(expected["temperature_rise"][0]))
    assert len(out["region_welfare"]) == N and sum(out["region_welfare"]) == pytest.approx(out["score"])
    # the task's report hook returns what the command prints (deterministic: any number of episodes)
    assert task.report is not None
    report = task.report(task, task.policy("mitigation_7"), seed=0, episodes=3, backend="numpy")
    assert report.keys() == {"competition_metrics", "region_welfare"}
    assert report["competition_metrics"] == pytest.approx(out["competition_metrics"], rel=1e-12)
    assert report["region_welfare"] == pytest.approx(out["region_welfare"], rel=1e-12)


def test_action_masks_for_maskable_learners() -> None:
    """``action_masks()`` on the Gymnasium env and the SB3 VecEnv (what sb3-contrib's MaskablePPO calls)."""
    import gymnasium as gym

    from econbench.adapters.sb3 import EconSB3VecEnv

    env = gym.make("econbench/RICECooperation-Bilateral-Region-v0")
    obs, _ = env.reset(seed=0)
    act = np.zeros(138, dtype=np.int64)
    act[58:111:2] = 7  # region 0 requests 0.7 of every partner; the bau others accept every proposal
    obs, *_ = env.step(act)
    act[:] = 0
    act[111:] = 1
    obs, *_ = env.step(act)
    mask = env.unwrapped.action_masks()
    assert mask.dtype == bool and mask.shape == (1164,)
    np.testing.assert_array_equal(mask, obs["action_mask"].astype(bool))
    assert mask.all()  # region 0 promised 0 and was asked for 0: unconstrained
    partners = env.unwrapped.view.batched.action_masks()["regions"][0, 1:, L : 2 * L]
    assert not partners[:, :7].any() and partners[:, 7:].all()  # the others accepted its request of 0.7
    venv = EconSB3VecEnv("econbench/RICECooperation-Club-Region-v0", num_envs=3)
    venv.seed(0)
    obs = venv.reset()
    rows = venv.env_method("action_masks")
    assert len(rows) == 3
    np.testing.assert_array_equal(np.stack(rows), obs["action_mask"].astype(bool))
