"""Hub registrations for the imports concern (nav, verbs, archive sections, cards)."""


def register() -> None:
    return None
