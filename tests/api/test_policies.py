"""Policy folders: data in, actions out, exactly as written; ONNX graphs from other libraries; malformed
folders refused with one line."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import econbench
from econbench import policies
from econbench.jsontext import MAX_JSON_DEPTH, json_depth
from econbench.metrics import evaluate
from econbench.policies import PolicyFileError
from econbench.registry import make_task

LQ = "econbench/InvestmentLQ-Planner-v0"
OLIGOPOLY = "econbench/InvestmentOligopoly-v0"
STEADY = "econbench/EVCharging-Steady-v0"


def _mlp(rng: np.random.Generator, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (rng.normal(size=(o, i)).astype(np.float32) * 0.3, rng.normal(size=o).astype(np.float32) * 0.1)
        for i, o in itertools.pairwise(sizes)
    ]


def _write_box(folder: Path, task_id: str, group: str, obs_dim: int, act_dim: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    layers = _mlp(rng, [obs_dim, 8, 8, act_dim])
    mean, var = rng.normal(size=obs_dim) * 100, rng.uniform(1.0, 1e4, obs_dim)
    norm = policies.ObsNorm(eps=1e-8, clip=5.0, dtype="float64", op="divide")
    g, arrays = policies.mlp_group(group, layers, "tanh", policies.BoxAction(scale="unit"), mean, var, norm)
    policies.write_policy(folder, task_id, {group: g}, arrays, provenance={"test": True})
    return {"layers": layers, "mean": mean, "var": var}


def test_a_box_policy_acts_as_its_weights_say(tmp_path: Path) -> None:
    task = make_task(LQ)
    g = task.groups[0]
    w = _write_box(tmp_path, LQ, g.name, g.observation.shape[0], g.action.shape[0])
    profile = policies.group_policies(policies.load(tmp_path), task)
    obs = np.random.default_rng(1).uniform(1000, 3000, size=(5, 1, g.observation.shape[0]))
    x = np.clip((obs.reshape(5, -1) - w["mean"]) / np.sqrt(w["var"] + 1e-8), -5, 5).astype(np.float32)
    for i, (wt, b) in enumerate(w["layers"]):
        x = x @ wt.T + b
        x = np.tanh(x) if i < 2 else x
    low, high = (np.asarray(v, np.float64) for v in g.action.bounds())
    want = low + (np.clip(x.astype(np.float64), -1, 1) + 1) * 0.5 * (high - low)
    np.testing.assert_allclose(profile[g.name](obs).reshape(5, -1), want, rtol=1e-6)
    # a folder is a policy spec of econbench's evaluation, its name the entry's label
    res = evaluate(LQ, str(tmp_path), episodes=2, seeds=[0])
    assert res.policy == tmp_path.name and np.all(np.isfinite(res.scores))


def test_discrete_logits_pick_the_most_likely_allowed_choice(tmp_path: Path) -> None:
    task = make_task(STEADY)
    g = task.groups[0]
    obs_dim, width = int(np.prod(g.observation.shape)), sum(g.action.nvec)
    bias = np.zeros(width, np.float32)
    bias[0] = 5.0  # choice 0 is the most likely everywhere, choice 1 the runner-up
    bias[1] = 4.0
    layers = [(np.zeros((width, obs_dim), np.float32), bias)]
    grp, arrays = policies.mlp_group(g.name, layers, "relu", policies.DiscreteAction())
    policies.write_policy(tmp_path, STEADY, {g.name: grp}, arrays)
    pol = policies.group_policies(policies.load(tmp_path), task)[g.name]
    assert pol.uses_mask is g.masked
    obs = np.zeros((2, g.n_agents, *g.observation.shape))
    mask = np.ones((2, g.n_agents, width), dtype=bool)
    mask[:, :, 0] = False
    np.testing.assert_array_equal(pol(obs, mask)[..., 0], 1)  # choice 0 forbidden: the runner-up
    np.testing.assert_array_equal(pol(obs)[..., 0], 0)


def test_a_partial_profile_names_the_fixed_groups_and_a_file_of_names_only_is_refused(tmp_path: Path) -> None:
    task = make_task(OLIGOPOLY)
    g = task.groups[0]
    _write_box(tmp_path / "p", OLIGOPOLY, g.name, g.observation.shape[0], g.action.shape[0])
    assert set(policies.group_policies(policies.load(tmp_path / "p"), task)) == {g.name}
    with pytest.raises(ValueError, match="at least one network"):
        policies.write_policy(tmp_path / "q", OLIGOPOLY, {g.name: "exact"}, {})


def test_policy_for_another_task_or_other_parameters_is_refused(tmp_path: Path) -> None:
    task = make_task(LQ)
    g = task.groups[0]
    _write_box(tmp_path, LQ, g.name, g.observation.shape[0], g.action.shape[0])
    spec = json.loads((tmp_path / "policy.json").read_text())
    spec["params"] = {"discount": 0.5}
    (tmp_path / "policy.json").write_text(json.dumps(spec))
    with pytest.raises(PolicyFileError, match="trained with parameters"):
        policies.group_policies(policies.load(tmp_path), task)
    spec["params"], spec["task_id"] = {}, "econbench/InvestmentLQ-v0"
    (tmp_path / "policy.json").write_text(json.dumps(spec))
    with pytest.raises(PolicyFileError, match="a policy for econbench/InvestmentLQ-v0"):
        policies.group_policies(policies.load(tmp_path), task)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda s: s.update(format="pickle"), "not an econbench policy"),
        (lambda s: s.update(extra="x"), "extra"),
        (lambda s: s["groups"]["planner"]["network"].update(type="python", module="os"), "network"),
        (lambda s: s["groups"]["planner"]["network"].update(activation="__import__('os')"), "activation"),
        (lambda s: s["groups"]["planner"].update(network={"type": "onnx", "file": "../../etc/x.onnx"}), "file"),
    ],
)
def test_malformed_policy_json_is_refused_in_one_line(tmp_path: Path, edit, match: str) -> None:
    task = make_task(LQ)
    g = task.groups[0]
    _write_box(tmp_path, LQ, g.name, g.observation.shape[0], g.action.shape[0])
    spec = json.loads((tmp_path / "policy.json").read_text())
    edit(spec)
    (tmp_path / "policy.json").write_text(json.dumps(spec))
    with pytest.raises(PolicyFileError, match=match) as info:
        policies.load(tmp_path)
    assert "\n" not in str(info.value)


def test_tensors_that_do_not_fit_the_task_or_are_not_finite_are_refused(tmp_path: Path) -> None:
    task = make_task(LQ)
    g = task.groups[0]
    _write_box(tmp_path, LQ, g.name, g.observation.shape[0] + 1, g.action.shape[0])
    with pytest.raises(PolicyFileError, match="needs"):
        policies.group_policies(policies.load(tmp_path), task)
    from safetensors.numpy import save_file

    save_file({"planner/w0": np.array([[np.nan]], np.float32)}, str(tmp_path / "policy.safetensors"))
    with pytest.raises(PolicyFileError, match="NaN"):
        policies.load(tmp_path)
    (tmp_path / "policy.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(PolicyFileError, match="safetensors"):
        policies.load(tmp_path)


def test_deeply_nested_json_is_refused_before_parsing(tmp_path: Path) -> None:
    assert json_depth('{"a": [1, {"b": "[[[["}]}') <= 3
    assert json_depth("[" * 40 + "]" * 40) > MAX_JSON_DEPTH
    (tmp_path / "policy.json").write_text(
        '{"format": "econbench-policy", "provenance": ' + "[" * 100000 + "]" * 100000 + "}"
    )
    with pytest.raises(PolicyFileError, match="nested deeper"):
        policies.load(tmp_path)


# ---------------------------------------------------------------------------- ONNX: policies from other libraries
def _torch_actor(obs_dim: int, out: int):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(obs_dim, 16), torch.nn.Tanh(), torch.nn.Linear(16, out))


def test_an_onnx_policy_exported_from_a_plain_pytorch_module_is_evaluated(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    task = make_task(OLIGOPOLY)
    g = task.groups[0]
    obs_dim = g.observation.shape[0]
    actor = _torch_actor(obs_dim, g.action.shape[0])
    # the README's three lines
    torch.onnx.export(
        actor,
        (torch.zeros(1, obs_dim),),
        str(tmp_path / "firms.onnx"),
        input_names=["obs"],
        dynamic_axes={"obs": {0: "rows"}},
        dynamo=False,
    )
    policies.onnx_policy(tmp_path, OLIGOPOLY, {"firms": "firms.onnx"}, policies.BoxAction(scale="unit"))
    pol = policies.group_policies(policies.load(tmp_path), task)["firms"]
    obs = np.random.default_rng(0).normal(size=(4, g.n_agents, obs_dim))
    with torch.no_grad():
        raw = actor(torch.as_tensor(obs.reshape(-1, obs_dim), dtype=torch.float32)).double().numpy()
    low, high = (np.asarray(v, np.float64) for v in g.action.bounds())
    want = low + (np.clip(raw, -1, 1) + 1) * 0.5 * (high - low)
    np.testing.assert_allclose(pol(obs).reshape(-1, g.action.shape[0]), want, rtol=1e-5, atol=1e-6)
    res = evaluate(task, str(tmp_path), seeds=[0], episodes=2)
    assert np.all(np.isfinite(res.scores))


def test_onnx_graphs_with_custom_operators_or_external_data_are_refused(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["rows", 2])
    y = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["rows", 1])
    custom = helper.make_graph([helper.make_node("Exec", ["obs"], ["a"], domain="com.attacker")], "g", [x], [y])
    model = helper.make_model(
        custom, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.attacker", 1)]
    )
    (tmp_path / "firms.onnx").write_bytes(model.SerializeToString())
    policies.onnx_policy(tmp_path, OLIGOPOLY, {"firms": "firms.onnx"}, policies.BoxAction())
    with pytest.raises(PolicyFileError, match="custom domains"):
        policies.group_policies(policies.load(tmp_path), make_task(OLIGOPOLY))
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 1], [1.0, 2.0])
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("float_data")
    w.external_data.add(key="location", value="/etc/passwd")
    ext = helper.make_graph([helper.make_node("MatMul", ["obs", "w"], ["a"])], "g", [x], [y], initializer=[w])
    (tmp_path / "firms.onnx").write_bytes(helper.make_model(ext).SerializeToString())
    with pytest.raises(PolicyFileError, match="external files"):
        policies.group_policies(policies.load(tmp_path), make_task(OLIGOPOLY))
    assert onnx  # imported for the helper module


def test_shipped_policy_folders_load_and_name_their_provenance() -> None:
    root = Path(econbench.__file__).resolve().parent.parent
    folders = sorted(
        {p.parent for p in root.glob("baselines/checkpoints/*/*/policy.json")}
        | {p.parent for p in root.glob("econbench/envs/rbc/trained/*/policy.json")}
    )
    assert len(folders) >= 30
    for folder in folders:
        pf = policies.load(folder)
        assert pf.spec.provenance.get("trainer"), folder
