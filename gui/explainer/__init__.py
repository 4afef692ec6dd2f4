"""The Explainer room: a convolution or pooling stepped through on the user's network or a lesson."""
