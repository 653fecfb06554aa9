"""Demo data of the volunteers app."""
