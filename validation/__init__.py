"""Regulatory validation and trial analysis suite for locked medical-imaging AI."""

__version__ = "0.1.0"
