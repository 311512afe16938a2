"""The plant model: the shared kernel every other domain reads."""
