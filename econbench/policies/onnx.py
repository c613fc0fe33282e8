"""ONNX graphs as the framework-neutral policy format (CleanRL, RL Zoo, TorchRL, RLlib, JAX exports).

A graph is data too, with two ways out of the sandbox that are closed here:
tensors stored in external files (a path the graph names) and operators from
custom domains (code in a shared library). A graph with either is refused;
the session is built from the bytes already read, on the CPU provider only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.policies.files import PolicyFileError, PolicyFolder
from econbench.policies.spec import ONNX

STANDARD_DOMAINS = {"", "ai.onnx", "ai.onnx.ml"}
INSTALL = "ONNX policies need onnxruntime and onnx: pip install 'econbench[onnx]'"


def _check_graph(data: bytes, where: str) -> None:
    try:
        import onnx
        from onnx.external_data_helper import uses_external_data
    except ImportError:
        raise PolicyFileError(f"{where}: {INSTALL}") from None
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:
        raise PolicyFileError(f"{where}: not a readable ONNX graph ({type(exc).__name__})") from None
    local = {f.domain for f in model.functions}  # functions defined inside the graph, from standard operators

    def nodes(graph: Any) -> Any:
        for node in graph.node:
            yield node
            for attr in node.attribute:
                if attr.HasField("g"):
                    yield from nodes(attr.g)
                for sub in attr.graphs:
                    yield from nodes(sub)

    used = {n.domain for n in nodes(model.graph)} | {n.domain for f in model.functions for n in nodes(f)}
    custom = sorted(used - STANDARD_DOMAINS - local)
    if custom:
        raise PolicyFileError(
            f"{where}: operators from custom domains {custom[:3]} (code outside the graph) are refused"
        )
    all_nodes = [*nodes(model.graph), *(n for f in model.functions for n in nodes(f))]
    tensors = [
        *model.graph.initializer,
        *(a.t for n in all_nodes for a in n.attribute if a.HasField("t")),
        *(t for n in all_nodes for a in n.attribute for t in a.tensors),
        *(t for n in all_nodes for a in n.attribute if a.HasField("g") for t in a.g.initializer),
    ]
    if any(uses_external_data(t) for t in tensors):
        raise PolicyFileError(f"{where}: tensors stored in external files are refused; save the graph as one file")


def session(data: bytes, where: str) -> Any:
    _check_graph(data, where)
    try:
        import onnxruntime as ort
    except ImportError:
        raise PolicyFileError(f"{where}: {INSTALL}") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise PolicyFileError(
            f"{where}: onnxruntime cannot run the graph ({' '.join(str(exc).split())[:200]})"
        ) from None


def onnx_forward(pf: PolicyFolder, name: str, net: ONNX, width: int, obs_dim: int, b: Backend) -> Any:
    """``x (rows, obs_dim) -> (rows, width)`` through the group's graph, on host arrays."""
    where = f"{pf.folder / net.file}"
    sess = session(pf.graphs[net.file], where)
    inputs = sess.get_inputs()
    if len(inputs) != 1:
        raise PolicyFileError(f"{where}: the graph takes {len(inputs)} inputs; a policy takes one observation batch")
    outputs = [o.name for o in sess.get_outputs()]
    out_name = net.output or outputs[0]
    if out_name not in outputs:
        raise PolicyFileError(f"{where}: no output {out_name!r}; outputs: {outputs}")
    in_name = inputs[0].name
    probe = sess.run([out_name], {in_name: np.zeros((2, obs_dim), np.float32)})[0]
    if probe.ndim != 2 or probe.shape != (2, width):
        raise PolicyFileError(
            f"{where}: for 2 observations of {obs_dim} features the graph gives {probe.shape}; "
            f"the task needs (2, {width})"
        )

    return OnnxForward(pf.graphs[net.file], where, sess, in_name, out_name, width, b)


class OnnxForward:
    """A graph run on host arrays. Pickled as the graph's bytes: a session does not pickle, so a copy builds its
    own (checking the graph again)."""

    def __init__(self, data: bytes, where: str, sess: Any, in_name: str, out_name: str, width: int, b: Backend) -> None:
        self.data, self.where, self.sess, self.backend = data, where, sess, b
        self.in_name, self.out_name, self.width = in_name, out_name, width

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "sess"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.sess = session(self.data, self.where)

    def __call__(self, x: Any) -> Any:
        b, where, width = self.backend, self.where, self.width
        host = np.ascontiguousarray(b.to_numpy(x), dtype=np.float32)
        out = self.sess.run([self.out_name], {self.in_name: host})[0]
        if out.shape != (host.shape[0], width):
            raise PolicyFileError(f"{where}: output of shape {out.shape} for {host.shape[0]} rows")
        if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
            raise PolicyFileError(f"{where}: the graph output NaN or infinite values")
        return b.asarray(out)
