"""Hub registrations for the visits concern (nav, verbs, archive sections, cards)."""


def register() -> None:
    return None
