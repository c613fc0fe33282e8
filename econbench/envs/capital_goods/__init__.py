"""CapitalGoods: households saving in capital goods (shared or own rewards, a market, a planner).

Exact for one household and one good (VFI, Euler time iteration); docs/models/capital_goods.md."""
