"""PyTorch models, data, losses and the training loop; home of the shipped demo model."""
