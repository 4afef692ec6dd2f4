"""Live views: pure data-in widgets (numpy in), no torch, threads or trainer knowledge.

Import the view modules directly. The numpy tiling they share with the PNG export lives in
``engine.inspection.mosaic``.
"""
