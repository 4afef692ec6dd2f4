"""The Evaluation tab: scores of the trained weights, the clickable confusion matrix, galleries, explanations."""
