"""CapitalGoodsGame: households buying capital goods from strategic firms that set markups.

References: the competitive equilibrium and the one-period Nash markup; docs/models/capital_game.md."""
