"""Analytics: creator and admin metrics (read-only queries over the other domains)."""
