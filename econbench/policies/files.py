"""Reading and writing policy folders, and refusing every format that is code rather than data.

Pickle (``vecnormalize.pkl``), cloudpickle (the ``data`` entry of an SB3
``model.zip``) and ``torch.save`` files (``checkpoint.pt``) rebuild Python
objects by calling whatever the file names, so opening one runs its author's
code. econbench never opens them: a folder that holds only such files is
refused by its file names, before a byte of it is read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from econbench.jsontext import MAX_JSON_DEPTH, json_depth
from econbench.policies.spec import FORMAT, SPEC_FILE, VERSION, WEIGHTS_FILE, PolicySpec

MAX_SPEC_BYTES = 1_000_000
MAX_WEIGHTS_BYTES = 1 << 30
MAX_ONNX_BYTES = 256 << 20
CODE_SUFFIXES = {
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".pt": "torch.save pickle",
    ".pth": "torch.save pickle",
    ".ckpt": "pickled checkpoint",
    ".zip": "SB3 zip (cloudpickle)",
    ".joblib": "joblib pickle",
    ".cloudpickle": "cloudpickle",
    ".npy": "NumPy file (may hold pickles)",
}
FORMAT_HELP = "see README 'Policy files' (policy.json with policy.safetensors, or with ONNX graphs)"


class PolicyFileError(ValueError):
    """A policy path was refused; one line that says why. Nothing was loaded or written."""


@dataclass
class PolicyFolder:
    """A validated policy folder: the spec, its tensors, and the ONNX graphs' bytes by file name."""

    folder: Path
    spec: PolicySpec
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    graphs: dict[str, bytes] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.folder.name


def _refuse_code(path: Path, names: list[str]) -> PolicyFileError:
    kinds = sorted({f"{n} ({CODE_SUFFIXES[Path(n).suffix.lower()]})" for n in names})
    return PolicyFileError(
        f"{path}: no {SPEC_FILE}; {', '.join(kinds[:4])} run code when loaded and econbench never "
        f"opens them; export the policy as data ({FORMAT_HELP})"
    )


def locate(path: str | Path) -> Path:
    """The policy folder a path names (the folder, or its ``policy.json``), or a one-line refusal."""
    p = Path(path)
    if p.is_file():
        if p.name == SPEC_FILE:
            return p.parent
        if p.suffix.lower() in CODE_SUFFIXES:
            raise _refuse_code(p.parent, [p.name])
        raise PolicyFileError(f"{p}: not a policy folder ({FORMAT_HELP})")
    if not p.is_dir():
        raise PolicyFileError(f"{p}: no such policy folder")
    if (p / SPEC_FILE).is_file():
        return p
    code = sorted(c.name for c in p.iterdir() if c.suffix.lower() in CODE_SUFFIXES)
    if code:
        raise _refuse_code(p, code)
    raise PolicyFileError(f"{p}: no {SPEC_FILE} in the folder ({FORMAT_HELP})")


def _read_bounded(path: Path, limit: int, what: str) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise PolicyFileError(f"{path}: {what} must be a regular file in the policy folder")
    size = path.stat().st_size
    if size > limit:
        raise PolicyFileError(f"{path}: {size:,} bytes, over the {limit:,}-byte limit for {what}")
    return path.read_bytes()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def read_spec(folder: Path) -> PolicySpec:
    raw = _read_bounded(folder / SPEC_FILE, MAX_SPEC_BYTES, SPEC_FILE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyFileError(f"{folder / SPEC_FILE}: not UTF-8 text") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise PolicyFileError(f"{folder / SPEC_FILE}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise PolicyFileError(f"{folder / SPEC_FILE}: not valid JSON ({_one_line(exc)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PolicyFileError(f'{folder / SPEC_FILE}: not an econbench policy ("format" must be {FORMAT!r})')
    from pydantic import ValidationError

    try:
        return PolicySpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()[:5])
        raise PolicyFileError(f"{folder / SPEC_FILE}: malformed policy: {problems}") from None


def read_weights(folder: Path) -> dict[str, np.ndarray]:
    """The folder's tensors: finite floating-point arrays only (safetensors holds nothing else to run)."""
    path = folder / WEIGHTS_FILE
    if not path.exists():
        return {}
    raw = _read_bounded(path, MAX_WEIGHTS_BYTES, WEIGHTS_FILE)
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        arrays = load(raw)
    except (SafetensorError, ValueError, TypeError) as exc:
        raise PolicyFileError(f"{path}: not a readable safetensors file ({_one_line(exc)})") from None
    for name, a in arrays.items():
        if a.dtype.kind != "f":
            raise PolicyFileError(f"{path}: tensor {name!r} is {a.dtype}, expected floating point")
        if not np.all(np.isfinite(a)):
            raise PolicyFileError(f"{path}: tensor {name!r} holds NaN or infinite values")
    return arrays


def load(path: str | Path) -> PolicyFolder:
    """Read and validate a policy folder (spec, tensors, graph bytes); runs nothing the files name."""
    folder = locate(path)
    spec = read_spec(folder)
    graphs = {}
    for g in spec.networks().values():
        if g.network.type == "onnx":
            graphs[g.network.file] = _read_bounded(folder / g.network.file, MAX_ONNX_BYTES, "an ONNX graph")
    return PolicyFolder(folder, spec, read_weights(folder), graphs)


def save(
    folder: str | Path,
    spec: PolicySpec | dict[str, Any],
    arrays: dict[str, np.ndarray],
    graphs: dict[str, bytes] | None = None,
) -> Path:
    """Write ``policy.json`` and ``policy.safetensors`` (and graphs) into ``folder``, each file replaced atomically."""
    from safetensors.numpy import save as to_bytes

    spec = (
        spec
        if isinstance(spec, PolicySpec)
        else PolicySpec.model_validate({"format": FORMAT, "version": VERSION, **spec})
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {SPEC_FILE: (json.dumps(spec.model_dump(mode="json", exclude_defaults=False), indent=2) + "\n").encode()}
    if arrays:
        files[WEIGHTS_FILE] = to_bytes({k: np.ascontiguousarray(v) for k, v in sorted(arrays.items())})
    files.update(graphs or {})
    for name, data in files.items():
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
    return folder
