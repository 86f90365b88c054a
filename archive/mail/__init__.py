"""Mail: the outbox (written in the same transaction as what it announces) and its delivery by `testimony worker`."""
