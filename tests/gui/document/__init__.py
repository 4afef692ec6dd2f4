"""Tests of gui/document."""
