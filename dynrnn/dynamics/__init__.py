"""RNN maps as dynamical systems: attractors, basins and orbits (Pascanu et al. 2013, Sec. 2.2)."""
