"""InvestmentLQ: the linear-quadratic Lucas–Prescott industry (price-taking firms, and its planner).

Exact: the rational-expectations law by Riccati; the model is docs/models/investment_lq.md."""
