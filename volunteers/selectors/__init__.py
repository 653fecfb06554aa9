"""Reads of the volunteers app (always scoped through aidcases.access), one module per concern."""
