"""Screens pushed over the simulator: help and compare."""
