"""Export and import of trained networks: weights, TorchScript, ONNX, standalone source, images, tables."""
