"""Tests of the live views (gui/views)."""
