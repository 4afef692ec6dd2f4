"""The Timeline tab: scrub a run folder's snapshots (filters, weight distributions, gradient norms)."""
