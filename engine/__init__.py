"""Training engine: torch + numpy, no Qt."""
