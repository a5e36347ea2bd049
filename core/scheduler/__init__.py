"""Core area: the lease table that lets background jobs run once across server processes."""
