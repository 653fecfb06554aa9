"""Hub registrations for the teams concern (nav, verbs, archive sections, cards)."""


def register() -> None:
    return None
