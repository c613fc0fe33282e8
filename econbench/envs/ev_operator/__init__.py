"""EVCharging-Operator-v0: a planner tolls EV charging stations hour by hour (``env.operator_task``)."""
