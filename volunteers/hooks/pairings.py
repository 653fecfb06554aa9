"""Hub registrations for the pairings concern (nav, verbs, archive sections, cards)."""


def register() -> None:
    return None
