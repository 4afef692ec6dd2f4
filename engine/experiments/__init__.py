"""Experiments: several variants and seeds trained one after another, and their results table."""
