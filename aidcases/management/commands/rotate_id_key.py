"""Re-encrypt ID numbers under the newest key and recompute their keyed hashes.

Key rotation: put the new Fernet key FIRST in FIELD_ENCRYPTION_KEYS (keep the
old ones after it), deploy, run this command, then drop the old keys. After a
change of ID_HASH_KEY the same command recomputes every hash from the
decrypted numbers: the lookup hash and the hashed ID and phone tails of the
search tokens (the same key family). Safe to run again; runs in one transaction.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from aidcases import pii, search
from aidcases.models import Person

FIELDS = ["id_number_encrypted", "id_number_hash", "search_tokens"]


class Command(BaseCommand):
    help = (
        "用最新密钥重新加密身份证号码并重算查找哈希与尾号检索哈希（轮换密钥后执行，可重复执行）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000)

    @transaction.atomic
    def handle(self, *args, batch: int, **options):
        reencrypted = rehashed = total = 0
        people = Person.objects.only("pk", "name", "phone", "guardian_phone", *FIELDS)
        pending: list[Person] = []
        for person in people.iterator(chunk_size=batch):
            number = pii.decrypt(person.id_number_encrypted) if person.id_number_encrypted else ""
            total += bool(number)
            changed = False
            if number and pii.needs_rotation(person.id_number_encrypted):
                person.id_number_encrypted = pii.encrypt(number)
                reencrypted += 1
                changed = True
            if number and pii.id_hash(number) != person.id_number_hash:
                person.id_number_hash = pii.id_hash(number)
                rehashed += 1
                changed = True
            tokens = search.person_tokens(
                name=person.name,
                id_number=number,
                phone=person.phone,
                guardian_phone=person.guardian_phone,
            )
            if tokens != person.search_tokens:
                person.search_tokens = tokens
                changed = True
            if changed:
                pending.append(person)
            if len(pending) >= batch:
                self._flush(pending)
        self._flush(pending)
        self.stdout.write(f"共 {total} 条：重新加密 {reencrypted} 条，重算哈希 {rehashed} 条。")

    def _flush(self, pending: list[Person]) -> None:
        if pending:
            Person.objects.bulk_update(pending, FIELDS)
            pending.clear()
