"""Tests of gui/builder."""
