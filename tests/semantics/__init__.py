"""The concrete evaluator and the meaning of the seed policies."""
