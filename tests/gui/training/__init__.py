"""Tests of gui/training."""
