"""Gated decisions: who may approve, resolving exactly once, resuming the paused run."""
