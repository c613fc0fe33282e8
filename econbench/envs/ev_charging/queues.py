"""First-come-first-served charging queues in continuous time, batched over stations and environments.

A station with ``c`` plugs is ``c`` "free at" times; an EV that arrives at
time ``a`` needing ``d`` minutes takes the plug that frees first, starts at
``max(a, free)`` and frees it at ``start + d``. This is the Kiefer-Wolfowitz
recursion of the FIFO G/G/c queue, so the waits are exact for any arrival
times and service times: Poisson arrivals with exponential service give M/M/c
(Erlang C) and simultaneous arrivals with fixed service give the batch game's
``floor(k / c)`` waits. Within a station the recursion is sequential, so the
loop runs over an arrival's rank at its station, each pass serving one EV at
every station at once: a step costs as many passes as the busiest station
has arrivals.
"""

from __future__ import annotations

from typing import Any

from econbench.backend import Backend

Array = Any


def fifo_assign(
    b: Backend, plug_free: Array, queue: Array, arrival: Array, service: Array, order_key: Array | None = None
) -> tuple[Array, Array, Array]:
    """Serve arrivals in order of arrival time; returns ``(start, finish, plug_free)``.

    ``plug_free`` is ``(queues, plugs)`` (``inf`` for plugs a station lacks);
    ``queue``, ``arrival`` and ``service`` are ``(m,)``. Equal arrival times are
    served in ``order_key`` order (a random key gives a uniformly random
    order), else in the order given. ``plug_free`` may be updated in place:
    use the returned array.
    """
    xp = b.xp
    m = arrival.shape[0]
    C = plug_free.shape[1]
    perm = xp.arange(m, dtype=xp.int64, device=b.device)
    if order_key is not None:
        perm = xp.argsort(order_key, stable=True)
    perm = xp.take(perm, xp.argsort(xp.take(arrival, perm), stable=True))
    perm = xp.take(perm, xp.argsort(xp.take(queue, perm), stable=True))  # by queue, then time, then key
    q = xp.take(queue, perm)
    rank = xp.arange(m, dtype=xp.int64, device=b.device) - xp.searchsorted(q, q)
    by_rank = xp.argsort(rank, stable=True)  # pass r serves a contiguous slice: one sort, not a scan per pass
    passes = int(xp.max(rank)) + 1 if m else 0
    bounds = [
        int(v) for v in xp.searchsorted(xp.take(rank, by_rank), xp.arange(passes + 1, dtype=xp.int64, device=b.device))
    ]
    arr, dur = xp.take(arrival, perm), xp.take(service, perm)
    start = xp.zeros((m,), dtype=arrival.dtype, device=b.device)
    flat = xp.asarray(xp.reshape(plug_free, (-1,)), copy=True)  # the caller's state stays as it was
    for r in range(passes):
        sel = by_rank[bounds[r] : bounds[r + 1]]
        rows = xp.take(q, sel)
        free = xp.take(xp.reshape(flat, (-1, C)), rows, axis=0)
        slot = rows * C + xp.argmin(free, axis=1)  # the plug that frees first
        s = xp.maximum(xp.take(arr, sel), xp.take(flat, slot))  # a gather: a min over a short axis costs 2x more
        start = b.put(start, xp.take(perm, sel), s)  # straight to the caller's order
        flat = b.put(flat, slot, s + xp.take(dur, sel))
    return start, start + service, xp.reshape(flat, plug_free.shape)
