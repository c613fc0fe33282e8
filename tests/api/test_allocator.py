"""econbench.allocator: with it, a loop that allocates and frees the same blocks stops faulting pages in."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHURN = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from econbench.allocator import keep_freed_memory
    assert keep_freed_memory()
def step():
    small = [np.ones(1 << 18) for _ in range(6)]  # 2 MB each, written: a minibatch's activations
    big = np.ones(5 << 20)  # 40 MB: above glibc's largest dynamic mmap threshold (a whole rollout's values)
    return sum(float(a[0]) for a in small) + float(big[-1])
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_freed_blocks_are_reused_without_page_faults() -> None:
    from econbench.allocator import keep_freed_memory

    if not keep_freed_memory():
        pytest.skip("the C library is not glibc")
    default, kept = _faults("default"), _faults("keep")
    assert default > 10_000  # 10 x 40 MB mapped and faulted in afresh: the loop measures what it should
    assert kept < default / 20, (default, kept)
