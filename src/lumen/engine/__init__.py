"""Durable work: runs with leases and fencing, the journal, the scheduler, workers, the outbox."""
