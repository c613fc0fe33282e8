"""Exact references of the capital-goods economy (``docs/models/capital_goods.md`` §4-§6).

* the deterministic steady state of the corrected formula (any ``N_h``, ``N_c``);
* value-function iteration for one household and one good over ``(K, z)``, four
  shock states (aggregate x idiosyncratic), with Howard policy-evaluation steps;
* the consumption-equivalent loss of a policy against ``V*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from econbench.envs.capital_goods.params import CapitalParams
from econbench.envs.investment_stochastic.solution import policy_chain_invariant


@dataclass(frozen=True)
class SteadyState:
    k: float  # capital per household and good
    y: float  # output per household
    c: float  # consumption per household (resources: planner, or the market with profits rebated)
    saving: float  # share of output spent on capital goods, all goods together (the household's spending)
    price: float  # marginal cost of each capital good, phi I_j


def steady_state(p: CapitalParams) -> SteadyState:
    """Deterministic steady state at shocks 1 (docs/models/capital_goods.md §4 table; independent of the shocks' means)."""
    k = p.k_ss
    y = k**p.alpha
    invest = p.n_households * p.delta * k  # I_j, every good
    resource = p.n_capital * 0.5 * p.phi * invest**2 / p.n_households  # each household's share of sum_j (phi/2) I_j^2
    return SteadyState(k, y, y - resource, p.saving_ss, p.phi * invest)


def own_reward_capital(p: CapitalParams) -> float:
    """Symmetric steady state when each household maximises its own log consumption (a Nash equilibrium).

    A household's marginal cost of its own capital at symmetry is ``phi I / m``:
    ``m = 2 - 1/N_h`` under proportional sharing (docs/models/capital_goods.md §4, caution 2: over-investment),
    ``m = 1`` in the market with profits rebated in equal shares (the rebate returns what
    its purchase adds to the price), ``m = 1 - 1/(2 N_h)`` in the market without rebates
    (the price it pays rises with its own purchase). So ``K = K_ss m^(1/(2-alpha))``.
    """
    n = p.n_households
    if p.formulation == "planner":
        m = 2.0 - 1.0 / n
    else:
        m = 1.0 if p.rebate else 1.0 - 1.0 / (2.0 * n)
    return p.k_ss * m ** (1.0 / (2.0 - p.alpha))


def chain(values: tuple[float, float], stay: float) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(values, dtype=np.float64), np.array([[stay, 1.0 - stay], [1.0 - stay, stay]])


def joint_shocks(
    z_agg: tuple[float, float], agg_stay: float, z_idio: tuple[float, float], idio_stay: float
) -> tuple[np.ndarray, np.ndarray]:
    """One household's productivity ``Z = Z_agg Z_idio`` in the order (agg, idio) and its transition matrix."""
    za, pa = chain(z_agg, agg_stay)
    zi, pi = chain(z_idio, idio_stay)
    return np.kron(za, zi), np.kron(pa, pi)


@dataclass(frozen=True)
class VFISolution:
    k: np.ndarray  # (n,) grid
    z: np.ndarray  # (4,) productivity states
    P: np.ndarray  # (4, 4)
    v: np.ndarray  # (4, n): V*(z, K)
    policy: np.ndarray  # (4, n) int: index of K' on the grid
    iterations: int

    @property
    def kprime(self) -> np.ndarray:
        return self.k[self.policy]

    def value(self, k: float | np.ndarray, s: int | np.ndarray) -> np.ndarray:
        """``V*`` between grid points (linear in K), shock state index ``s``."""
        k, s = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(s))
        out = np.empty(k.shape)
        for state in np.unique(s):
            m = s == state
            out[m] = np.interp(k[m], self.k, self.v[state])
        return out


def _check_sole(p: CapitalParams) -> None:
    if p.n_households != 1 or p.n_capital != 1:
        raise ValueError(
            f"the exact solution is for one household and one good; got n_households={p.n_households}, "
            f"n_capital={p.n_capital} (use Euler-equation errors there)"
        )


def solve_vfi(p: CapitalParams, tol: float = 1e-10, howard: int = 50, max_iter: int = 500) -> VFISolution:
    """``V(K, z) = max_K' log(z K^alpha - c max(K' - (1-delta) K, 0)^2) + beta E V(K', z')`` on the card's grid.

    ``c`` is the sole household's net cost per ``I^2`` (``CapitalParams.sole_cost``);
    negative investment and non-positive consumption are infeasible.
    """
    _check_sole(p)
    return _solve(
        p.alpha,
        p.beta,
        p.delta,
        p.sole_cost,
        p.k_ss,
        p.vfi_low,
        p.vfi_high,
        p.vfi_points,
        p.z_agg,
        p.agg_stay,
        p.z_idio,
        p.idio_stay,
        tol,
        howard,
        max_iter,
    )


@lru_cache(maxsize=8)
def _solve(
    alpha: float,
    beta: float,
    delta: float,
    cost: float,
    k_ss: float,
    lo: float,
    hi: float,
    n: int,
    z_agg: tuple[float, float],
    agg_stay: float,
    z_idio: tuple[float, float],
    idio_stay: float,
    tol: float,
    howard: int,
    max_iter: int,
) -> VFISolution:
    z, P = joint_shocks(z_agg, agg_stay, z_idio, idio_stay)
    k = np.linspace(lo * k_ss, hi * k_ss, n)
    invest = k[None, :] - (1.0 - delta) * k[:, None]  # (K, K')
    c = z[:, None, None] * (k**alpha)[None, :, None] - cost * np.maximum(invest, 0.0)[None] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where((c > 0.0) & (invest[None] >= 0.0), np.log(np.where(c > 0.0, c, 1.0)), -np.inf)
    rows = np.arange(n)[None, :]
    states = np.arange(z.size)[:, None]
    v = np.zeros((z.size, n))
    policy = np.zeros((z.size, n), dtype=np.int64)
    for it in range(1, max_iter + 1):
        q = u + beta * (P @ v)[:, None, :]
        policy = np.argmax(q, axis=2)
        v_new = q[states, rows, policy]
        u_pol = u[states, rows, policy]
        for _ in range(howard):  # evaluate the improved policy a few times before the next maximisation
            v_new = u_pol + beta * (P @ v_new)[states, policy]
        done = np.max(np.abs(v_new - v)) < tol
        v = v_new
        if done:
            break
    return VFISolution(k, z, P, v, policy, it)


@dataclass(frozen=True)
class EulerSolution:
    k: np.ndarray  # (n,) grid
    invest: np.ndarray  # (4, n): I(z, K), linear in K between grid points
    iterations: int


def solve_euler(p: CapitalParams, points: int = 300, tol: float = 1e-11, max_iter: int = 5000) -> EulerSolution:
    """The same optimum as a smooth policy, by time iteration on the Euler equation (one household, one good).

    ``2c I / C = beta E[(alpha z' K'^(alpha-1) + (1-delta) 2c I') / C']`` with ``C = z K^alpha - c I^2``,
    ``c`` the sole household's cost per ``I^2``: each sweep solves it for I at every (z, K) by bisection,
    given last sweep's I' (linear in K'). VFI's choices lie on its K grid, which makes its Euler errors
    those of the grid (about 10^-1.4); this policy's are the metric's floor.
    """
    _check_sole(p)
    return _solve_euler(
        p.alpha,
        p.beta,
        p.delta,
        p.sole_cost,
        p.k_ss,
        p.vfi_low,
        p.vfi_high,
        points,
        p.z_agg,
        p.agg_stay,
        p.z_idio,
        p.idio_stay,
        tol,
        max_iter,
    )


@lru_cache(maxsize=8)
def _solve_euler(
    alpha: float,
    beta: float,
    delta: float,
    cost: float,
    k_ss: float,
    lo_k: float,
    hi_k: float,
    n: int,
    z_agg: tuple[float, float],
    agg_stay: float,
    z_idio: tuple[float, float],
    idio_stay: float,
    tol: float,
    max_iter: int,
) -> EulerSolution:
    z, P = joint_shocks(z_agg, agg_stay, z_idio, idio_stay)
    k = np.linspace(lo_k * k_ss, hi_k * k_ss, n)
    y = z[:, None] * k[None] ** alpha
    invest = np.tile(delta * k, (z.size, 1))
    for it in range(1, max_iter + 1):
        lo, hi = np.zeros_like(invest), np.sqrt(y / cost) * (1.0 - 1e-9)  # C > 0 below hi
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            k_next = (1.0 - delta) * k[None] + mid
            i_next = np.stack([np.interp(k_next, k, invest[s]) for s in range(z.size)])  # (z', z, K)
            c_next = z[:, None, None] * k_next[None] ** alpha - cost * i_next**2
            gross = (
                alpha * z[:, None, None] * k_next[None] ** (alpha - 1.0) + 2.0 * cost * (1.0 - delta) * i_next
            ) / c_next
            excess = 2.0 * cost * mid / (y - cost * mid**2) - beta * np.einsum("sp,psn->sn", P, gross)
            hi, lo = np.where(excess > 0, mid, hi), np.where(excess > 0, lo, mid)
        new = 0.5 * (lo + hi)
        done = np.max(np.abs(new - invest)) < tol
        invest = new
        if done:
            break
    return EulerSolution(k, invest, it)


def invariant_distribution(sol: VFISolution, tol: float = 1e-12) -> np.ndarray:
    """Stationary distribution over (z, K grid) of the chain the optimal policy induces: ``(4, n)``, sums to 1."""
    return policy_chain_invariant(sol.policy.T, sol.P, tol).T


def consumption_equivalent_loss(v_policy: np.ndarray | float, v_star: np.ndarray | float, beta: float) -> np.ndarray:
    """``1 - exp((1 - beta)(V^pi - V*))``: the share of consumption, every period and state, that makes V* equal V^pi."""
    return 1.0 - np.exp((1.0 - beta) * (np.asarray(v_policy) - np.asarray(v_star)))


def summary(p: CapitalParams) -> dict[str, object]:
    """What ``econbench solve`` prints for one household and one good: the steady state, the optimal
    investment at it in each productivity state (Euler time iteration) and the optimal values there (VFI)."""
    ss = steady_state(p)
    euler = solve_euler(p)
    vfi = solve_vfi(p)
    states = [f"(agg {za:g}, idio {zi:g})" for za in p.z_agg for zi in p.z_idio]
    at_ss = [float(np.interp(ss.k, euler.k, euler.invest[s])) for s in range(len(states))]
    return {
        "steady state (K, y, c) at shocks 1": (ss.k, ss.y, ss.c),
        "steady-state investment delta K": p.delta * ss.k,
        **{f"optimal I(K_ss) in state {name}": inv for name, inv in zip(states, at_ss)},
        **{
            f"V*(K_ss) in state {name}": float(v)
            for name, v in zip(states, vfi.value(np.full(len(states), ss.k), np.arange(len(states))))
        },
        "Euler time-iteration sweeps / VFI iterations": (euler.iterations, vfi.iterations),
    }
