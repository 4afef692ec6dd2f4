"""What the user designs: layer specs, the architecture document and its arithmetic (no Qt, no torch)."""
