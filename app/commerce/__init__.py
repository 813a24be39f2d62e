"""Commerce: orders, the double-entry ledger, commission, escrow, payouts, refunds, disputes."""
