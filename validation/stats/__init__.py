"""The statistics layer: pure functions, arrays in, frozen result dataclasses out.

Each family has its own module; the public names are re-exported here.
"""

from validation.stats.roc import placement_values

__all__ = [
    "placement_values",
]
