"""Reads of the money app (scoped through aidcases.access), one module per concern."""
