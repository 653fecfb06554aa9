"""Services: visits."""

__all__: list[str] = []
