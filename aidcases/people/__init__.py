"""The people registry's screens: the list with its filters and Excel export,
registering and editing a person, opening, editing and closing cases."""
