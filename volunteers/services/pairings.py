"""Services: pairings."""

__all__: list[str] = []
