"""Stateful simulations that step once per frame from the shared fields: snow flakes that pile up,
bouncing balls, a rippling water surface. Plain classes over numpy arrays; the passes in
fx/passes/physics.py wrap them."""
from .balls import Balls
from .snow import Snow
from .waves import Waves

__all__ = ["Balls", "Snow", "Waves"]
