"""Thin views over one batched core: Gymnasium, native vector, PettingZoo and SB3."""
