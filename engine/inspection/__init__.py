"""What the window and the CLI compute from a network or a snapshot: the inspection copy, explanations, health, mosaics."""
