"""Fast, Django-free engines of the plant model (benchmarked alone in bench/)."""
