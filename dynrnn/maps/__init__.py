"""The RNN maps: activations, the model container and iteration (eq. 2)."""
