"""Replays a RICE-N reference trace (tests/fixtures/rice_n/*.json) through econbench and compares every step.

Tolerances are those of docs/models/rice.md §10: climate and production quantities
relative 1e-5; trade, balances, consumption and utility within
1e-2 |ref| + 1e-3 max|ref|, skipping consumption, utility, welfare and reward
of the regions the trace flags as ill-conditioned; negotiation outcomes exact.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from econbench.core import BatchedEnv
from econbench.envs.rice.dynamics import ECONOMY_FIELDS, PRIVATE_FIELDS, obs_offsets
from econbench.registry import make_task

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rice_n"
TIGHT = {  # reference key -> econbench state field
    "global_temperature": "temperature",
    "global_carbon_mass": "carbon",
    "global_exogenous_emissions": "exogenous_forcing",
    "global_land_emissions": "land_emissions",
    "capital_all_regions": "capital",
    "labor_all_regions": "labor",
    "production_factor_all_regions": "tfp",
    "intensity_all_regions": "intensity",
    "capital_depreciation_all_regions": "depreciation",
    "savings_all_regions": "savings",
    "mitigation_rate_all_regions": "mitigation",
    "max_export_limit_all_regions": "export_limit",
    "mitigation_cost_all_regions": "mitigation_cost",
    "damages_all_regions": "damages",
    "abatement_cost_all_regions": "abatement_cost",
    "production_all_regions": "production",
    "gross_output_all_regions": "gross_output",
    "investment_all_regions": "investment",
}
LOOSE = {
    "current_balance_all_regions": "balance",
    "tariff_revenue": "tariff_revenue",
    "scaled_imports": "imports",
    "tariffed_imports": "tariffed_imports",
}
PER_REGION_LOOSE = {
    "consumption_all_regions": "consumption",
    "utility_all_regions": "utility",
    "social_welfare_all_regions": "welfare",
    "reward_all_regions": "reward",
}
PROTOCOL_IDS = {
    "none": "econbench/RICECooperation-v0",
    "bilateral": "econbench/RICECooperation-Bilateral-v0",
    "club": "econbench/RICECooperation-Club-v0",
}
TIGHT_RTOL = 1e-5


@dataclass
class Report:
    """Worst error per quantity, as a fraction of its tolerance (<= 1 passes)."""

    worst: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def note(self, key: str, ratio: float, where: str) -> None:
        self.worst[key] = max(self.worst.get(key, 0.0), ratio)
        if ratio > 1.0 and len(self.failures) < 20:
            self.failures.append(f"{where} {key}: {ratio:.3g} x tolerance")


NEGOTIATION = {
    "promised_mitigation_rate": slice(0, 1),
    "requested_mitigation_rate": slice(1, 2),
    "proposal_decisions": slice(2, 3),
}  # reference key -> block of the bilateral agreement array


def load(name: str) -> dict[str, Any]:
    """A trace; the ones generated for econbench are stored gzipped."""
    path = FIXTURES / name
    if path.suffix == ".gz":
        return json.loads(gzip.decompress(path.read_bytes()))
    return json.loads(path.read_text())


def tight_ratio(ours: np.ndarray, ref: np.ndarray) -> float:
    tol = TIGHT_RTOL * np.abs(ref) + 1e-12
    return float(np.max(np.abs(ours - ref) / tol)) if ref.size else 0.0


def loose_ratio(ours: np.ndarray, ref: np.ndarray, skip: np.ndarray | None = None) -> float:
    tol = 1e-2 * np.abs(ref) + 1e-3 * np.max(np.abs(ref)) + 1e-12
    r = np.abs(ours - ref) / tol
    if skip is not None:
        r = r[~skip]
    return float(np.max(r)) if r.size else 0.0


def obs_tolerance(trace: dict[str, Any], p: Any) -> np.ndarray:
    """Per-feature class of region 0's observation: 0 tight, 1 loose (trade, balance, consumption, utility)."""
    N, off = p.n_regions, obs_offsets(p)
    assert off["end"] == trace["obs_dim"]
    cls = np.zeros(trace["obs_dim"], dtype=int)
    for b, name in enumerate(ECONOMY_FIELDS):
        if name in ("consumption", "balance"):
            cls[off["economy"] + b * N : off["economy"] + (b + 1) * N] = 1
    for k, name in enumerate(PRIVATE_FIELDS):
        if name in ("utility", "welfare", "reward"):
            cls[off["private"] + k] = 1
    return cls


def replay(trace: dict[str, Any], dtype: str = "float64", **params: Any) -> Report:
    """Step econbench with the trace's actions from reset and compare state, rewards and region 0's observation."""
    protocol = "bilateral" if trace["negotiation_on"] else "none"
    task = make_task(PROTOCOL_IDS[protocol], **params)
    env = BatchedEnv(task, 1, dtype=dtype)
    obs = env.reset(seed=0)["regions"]
    rep = Report()
    cls = obs_tolerance(trace, task.params)
    ref0 = np.asarray(trace["initial_obs_features"]["0"])
    rep.note("obs", tight_ratio(np.asarray(obs[0, 0])[cls == 0], ref0[cls == 0]), "reset")
    for step in trace["steps"]:
        acts = np.zeros((1, task.params.n_regions, len(task.groups[0].action.nvec)), dtype=np.int64)
        a = np.asarray(step["actions"], dtype=np.int64)
        acts[0, :, : a.shape[1]] = a
        obs, out, term, trunc = env.step({"regions": acts})
        s, where = env.state, f"step {step['timestep']}"
        ref_state = step["state"]
        ill = np.asarray(step["diagnostics"]["ill_conditioned"], dtype=bool)
        N = task.params.n_regions
        for key, block in NEGOTIATION.items():
            if key in ref_state:
                ours = np.asarray(s.agreements)[0][:, block.start * N : block.stop * N]
                rep.note(key, float(np.abs(ours - np.asarray(ref_state[key])).max()) * 1e6, where)  # exact
        if "minimum_mitigation_rate_all_regions" in ref_state:
            ref_min = np.asarray(ref_state["minimum_mitigation_rate_all_regions"])
            rep.note("min_mitigation", float(np.abs(np.asarray(s.min_mitigation)[0] - ref_min).max()) * 1e6, where)
        if "masked_mitigation_levels" in step:
            mask = np.asarray(env.action_masks()["regions"])[0]
            L = task.params.action_levels
            masked = (mask[:, L : 2 * L] == 0).sum(axis=1)
            rep.note(
                "masked_levels", float(np.any(masked != np.asarray(step["masked_mitigation_levels"]))) * 2.0, where
            )
        for key, name in TIGHT.items():
            rep.note(
                name, tight_ratio(np.asarray(getattr(s, name))[0], np.asarray(ref_state[key], dtype=np.float64)), where
            )
        for key, name in LOOSE.items():
            if key not in ref_state:  # upstream creates tariff_revenue at its first climate-economy step
                continue
            rep.note(
                name, loose_ratio(np.asarray(getattr(s, name))[0], np.asarray(ref_state[key], dtype=np.float64)), where
            )
        for key, name in PER_REGION_LOOSE.items():
            rep.note(
                name,
                loose_ratio(np.asarray(getattr(s, name))[0], np.asarray(ref_state[key], dtype=np.float64), ill),
                where,
            )
        rewards = np.asarray(out.rewards["regions"])[0]
        rep.note("rewards", loose_ratio(rewards, np.asarray(step["rewards"], dtype=np.float64), ill), where)
        o, ref_o = np.asarray(obs["regions"][0, 0]), np.asarray(step["obs_features"]["0"])
        rep.note("obs", tight_ratio(o[cls == 0], ref_o[cls == 0]), where)
        rep.note("obs_loose", loose_ratio(o[cls == 1], ref_o[cls == 1]), where)
        rep.note("done", float(bool(term[0]) != bool(step["done"])) * 2.0, where)
    return rep
