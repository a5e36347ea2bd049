"""The audit log: append-only, hash-chained record of every state change and sensitive read."""
