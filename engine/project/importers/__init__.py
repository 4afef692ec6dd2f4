"""Importing models made elsewhere (ONNX files, PyTorch modules) as ConvScope projects: layers, weights, identity
normalisation. `import_model` picks the reader by the source's form."""

from __future__ import annotations

import os

from engine.project.importers.assembly import ModelImportError

__all__ = ["ModelImportError", "import_model", "is_torch_source"]


def is_torch_source(source: str) -> bool:
    """'FILE.py:FACTORY' names a PyTorch module factory; anything else is read as an ONNX file."""
    path, sep, factory = str(source).rpartition(":")
    return bool(sep) and path.endswith(".py") and factory.isidentifier()


def import_model(source: str | os.PathLike, *, weights: str | os.PathLike | None = None,
                 input_shape: tuple[int, int, int] | None = None):
    """The Project for `source` (an .onnx file, or 'FILE.py:FACTORY', whose code this runs); ModelImportError
    naming every node ConvScope cannot represent, and nothing is written."""
    source = str(source)
    if is_torch_source(source):
        from engine.project.importers.torch_source import import_torch

        path, _, factory = source.rpartition(":")
        return import_torch(path, factory, weights=weights, input_shape=input_shape)
    if weights is not None:
        raise ModelImportError("--weights is for PyTorch sources (FILE.py:FACTORY); an ONNX file holds its weights")
    from engine.project.importers.onnx_source import import_onnx

    return import_onnx(source, input_shape=input_shape)
