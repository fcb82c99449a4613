"""Training RNNs on the paper's pathological tasks (Pascanu et al. 2013, Sec. 4.1)."""
