"""EV charging: drivers choose stations with FIFO queues (EVCharging-v0, -Steady, -Batch, -Driver, -LargeCity).

``params.py`` (the card's constants; ``mode`` picks the model), ``city.py``
(stations, travel times, the exact instances), ``queues.py`` (the FIFO
recursion), ``dynamics/`` (one class per model: the day with trips, the
steady queue, the batch game), ``env.py`` (the factory and the named
policies), ``solution.py`` (exact Wardrop, optimum and batch-game
references, also used by ``econbench.envs.ev_operator``), ``gap.py`` and
``metrics.py`` (equilibrium gaps and metrics), ``hooks.py`` (what generic
tools call) and ``figure.py`` (the rollout figure).
"""
