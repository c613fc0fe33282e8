"""InvestmentStochastic: the Lucas–Prescott industry with capacity, investment and demand shocks.

Exact: value-function iteration on a grid; docs/models/investment_stochastic.md."""
