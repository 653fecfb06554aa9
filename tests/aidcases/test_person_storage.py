from __future__ import annotations

from django.core.management import call_command
from django.db import connection

from aidcases import pii
from aidcases.models import Person
from tests.factories import make_id_number, make_person

NEW_KEY = "bmV3LXJvdGF0ZWQta2V5LWZvci10aGUtdGVzdCEhISE="


def test_a_database_dump_does_not_show_the_id_number(village_a):
    number = make_id_number()
    person = make_person(village_a, id_number=number)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM aidcases_person WHERE id = %s", [person.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert number not in row and number[:14] not in row
    # No tail beside the birth date: search uses keyed hashes of the tails
    # (tests/aidcases/test_id_privacy.py reads every column and history row).
    # Ciphertext, HMAC and the keyed-hash tail tokens are opaque (hex may hold 4 digits by chance).
    opaque = [person.id_number_encrypted, person.id_number_hash]
    opaque += [token for token in person.search_tokens if token.startswith("#")]
    for value in opaque:
        row = row.replace(value, "")
    assert number[-4:] not in row


def test_rotating_the_encryption_key_loses_nothing(village_a, settings, capsys):
    number = make_id_number()
    person = make_person(village_a, id_number=number)
    old_token = Person.objects.get(pk=person.pk).id_number_encrypted

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_id_key")
    assert "重新加密 1 条" in capsys.readouterr().out

    rotated = Person.objects.get(pk=person.pk)
    assert rotated.id_number_encrypted != old_token
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key is dropped
    assert pii.decrypt(rotated.id_number_encrypted) == number


def test_changing_the_hash_key_recomputes_lookups(village_a, settings):
    number = make_id_number()
    make_person(village_a, id_number=number)
    settings.ID_HASH_KEY = "a-brand-new-hash-key"
    assert not Person.objects.filter(id_number_hash=pii.id_hash(number)).exists()
    call_command("rotate_id_key")
    assert Person.objects.filter(id_number_hash=pii.id_hash(number)).exists()


def test_running_it_twice_changes_nothing(village_a, capsys):
    make_person(village_a)
    call_command("rotate_id_key")
    call_command("rotate_id_key")
    assert "重新加密 0 条，重算哈希 0 条" in capsys.readouterr().out


def test_hardship_level_labels_follow_the_county_setting(village_a, settings):
    from aidcases.models import AidCase, hardship_level_choices

    person = make_person(village_a, category="tekun")
    case = person.cases.get()
    case.hardship_level = AidCase.Level.SPECIAL
    assert case.get_hardship_level_display() == "特别困难"
    settings.HARDSHIP_LEVEL_LABELS = {"special": "一档"}
    assert case.get_hardship_level_display() == "一档"
    assert ("special", "一档") in hardship_level_choices()
