"""InvestmentOligopoly: N strategic firms with adjustment costs (a linear-quadratic dynamic game).

Exact: the Markov-perfect equilibrium by coupled Riccati equations; docs/models/investment_oligopoly.md."""
