"""The Markov removal-effect model: model, chain, order selection, path splitting, touch weights."""
