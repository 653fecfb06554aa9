"""Services: teams."""

__all__: list[str] = []
