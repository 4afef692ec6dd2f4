"""Building a torch model from an Architecture: the builder and its recipes, weights on disk, what a model computes on a probe."""
