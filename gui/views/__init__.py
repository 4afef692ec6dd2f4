"""Live views: pure data-in widgets (numpy in), no torch, threads or trainer knowledge.

Import the view modules directly; this package file stays empty so that importing
``gui.views.mosaic`` (pure numpy) does not pull in Qt.
"""
