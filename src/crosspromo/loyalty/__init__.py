"""Coalition loyalty: a points ledger shared by member businesses, with clearing."""
