"""Views of the money app, one module per concern."""
