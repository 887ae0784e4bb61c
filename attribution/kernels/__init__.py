"""Array kernels and shared constants: the ground floor every layer may use."""
