"""EV-charging allocation: exact references first (``solution``); the batched task follows."""
