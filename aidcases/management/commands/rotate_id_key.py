"""Re-encrypt ID numbers under the newest key and recompute their lookup hashes.

Key rotation: put the new Fernet key FIRST in FIELD_ENCRYPTION_KEYS (keep the
old ones after it), deploy, run this command, then drop the old keys. After a
change of ID_HASH_KEY the same command recomputes every hash from the
decrypted numbers. Safe to run again; runs in one transaction.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from aidcases import pii
from aidcases.models import Person


class Command(BaseCommand):
    help = "用最新密钥重新加密身份证号码并重算查找哈希（轮换密钥后执行，可重复执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000)

    @transaction.atomic
    def handle(self, *args, batch: int, **options):
        reencrypted = rehashed = total = 0
        people = Person.objects.exclude(id_number_encrypted="").only(
            "pk", "id_number_encrypted", "id_number_hash"
        )
        pending: list[Person] = []
        for person in people.iterator(chunk_size=batch):
            total += 1
            number = pii.decrypt(person.id_number_encrypted)
            fields = []
            if pii.needs_rotation(person.id_number_encrypted):
                person.id_number_encrypted = pii.encrypt(number)
                reencrypted += 1
                fields.append("id_number_encrypted")
            digest = pii.id_hash(number)
            if digest != person.id_number_hash:
                person.id_number_hash = digest
                rehashed += 1
                fields.append("id_number_hash")
            if fields:
                pending.append(person)
            if len(pending) >= batch:
                self._flush(pending)
        self._flush(pending)
        self.stdout.write(f"共 {total} 条：重新加密 {reencrypted} 条，重算哈希 {rehashed} 条。")

    def _flush(self, pending: list[Person]) -> None:
        if pending:
            Person.objects.bulk_update(pending, ["id_number_encrypted", "id_number_hash"])
            pending.clear()
