"""The hub's demo data: 特困人员 across the demo county's villages."""

from __future__ import annotations

import random

from aidcases import pii, services
from aidcases.models import AidCase, Area, Person, User
from aidcases.seeding import demo_birth, demo_id_number, demo_name, demo_phone, register

TEKUN_PER_TOWNSHIP = 12


@register("tekun", order=10)
def seed_tekun(admin: User, rng: random.Random) -> str:
    if AidCase.objects.filter(
        category=AidCase.Category.TEKUN, person__area__path__startswith="/149901/"
    ).exists():
        return "特困人员：已有演示数据，跳过。"
    created = 0
    villages = list(Area.objects.filter(level=Area.Level.VILLAGE, code__startswith="149901"))
    for township_villages in _by_township(villages).values():
        for _ in range(TEKUN_PER_TOWNSHIP):
            village = rng.choice(township_villages)
            female = rng.random() < 0.4
            birth = demo_birth(rng, 1938, 1968)
            number = demo_id_number(rng, birth, female=female, area="149901")
            name = demo_name(rng)
            level = rng.choice(["special", "hard", "general"])
            flags = rng.sample(["dibao", "disability", "serious_illness", "registered_poor"], 2)
            mode = rng.choice(["dispersed", "dispersed", "centralised"])
            alone = rng.random() < 0.6
            phone = demo_phone(rng) if rng.random() < 0.7 else ""
            cadre = demo_name(rng)
            if Person.objects.filter(id_number_hash=pii.id_hash(number)).exists():
                continue
            person = services.person_register(
                acting_user=admin,
                data=services.PersonData(
                    name=name, area=village, id_number=number, phone=phone,
                    address=f"{village.name}{rng.randrange(1, 120)}号",
                ),
            )  # fmt: skip
            case = services.case_open(
                acting_user=admin,
                person=person,
                category=AidCase.Category.TEKUN,
                hardship_level=level,
                flags=flags,
            )
            services.tekun_profile_save(
                acting_user=admin,
                case=case,
                support_mode=mode,
                lives_alone=alone and mode == "dispersed",
                health=rng.choice(["良好", "慢性病", "行动不便", "长期卧床"]),
                responsible_cadre=cadre,
            )
            created += 1
    return f"特困人员：新增 {created} 人。"


def _by_township(villages: list[Area]) -> dict[int, list[Area]]:
    groups: dict[int, list[Area]] = {}
    for village in villages:
        groups.setdefault(village.parent_id, []).append(village)
    return groups
