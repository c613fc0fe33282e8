"""shared_ppo.to_host: a step's rewards, welfare and done flags reach the host in one copy, with their values."""

from __future__ import annotations

import numpy as np
import pytest

from econbench.backend import get_backend


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_one_copy_with_every_value(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from econbench.learn.shared_ppo import to_host

    b = get_backend(name, "float32")
    rng = np.random.default_rng(0)
    given = {
        "consumers": rng.normal(size=(4, 3)).astype(np.float32),
        "government": rng.normal(size=(4, 1)).astype(np.float32),
        "#welfare": rng.normal(size=4).astype(np.float32),
        "#done": np.array([True, False, False, True]),
    }
    copies = []
    monkeypatch.setattr(type(b), "to_numpy", lambda self, x: copies.append(1) or np.asarray(x.cpu()))
    host = to_host(b, {k: b.asarray(v) if v.dtype != bool else b.xp.asarray(v) for k, v in given.items()})
    assert len(copies) == (0 if name == "numpy" else 1)
    for k, v in given.items():
        assert host[k].shape == v.shape and host[k].dtype == np.float64
        np.testing.assert_array_equal(host[k], v.astype(np.float64))
