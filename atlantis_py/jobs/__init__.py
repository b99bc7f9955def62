"""Background work: the durable queue, its workers, and recovery after a crash."""
