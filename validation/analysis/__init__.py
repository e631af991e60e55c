"""The analysis engine: protocol endpoints mapped to the statistics layer, ``results.json`` out."""

from validation.analysis.engine import analyse
from validation.analysis.results import SCHEMA_VERSION, load_results, write_results

__all__ = ["SCHEMA_VERSION", "analyse", "load_results", "write_results"]
