"""Scoring a network on a split: evaluation, per-sample predictions, the split a saved network is scored on, test scores."""
