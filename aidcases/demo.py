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


@register("review", order=90)
def seed_review_queue(admin: User, rng: random.Random) -> str:
    """People without an ID number and a likely duplicate, so the review queue
    has something to show."""
    if Person.objects.filter(area__path__startswith="/149901/").exclude(no_id_reason="").exists():
        return "待核对记录：已有演示数据，跳过。"
    twin = (
        Person.objects.filter(area__path__startswith="/149901/", birth_date__isnull=False)
        .exclude(guardian_phone="")
        .order_by("id")
        .first()
    )
    created = 0
    if twin is not None:
        # The same child entered again by another hand, without the ID number.
        services.person_register(
            acting_user=admin,
            data=services.PersonData(
                name=twin.name,
                area=twin.area,
                gender=twin.gender,
                birth_date=twin.birth_date,
                no_id_reason="登记时未带户口本，待补录",
                guardian_name=twin.guardian_name,
                guardian_phone=twin.guardian_phone,
            ),
        )
        created += 1
    villages = list(Area.objects.filter(level=Area.Level.VILLAGE, code__startswith="149901"))
    for reason in ("未落户（事实无人抚养）", "身份证遗失，正在补办"):
        birth = demo_birth(rng, 2012, 2018)
        services.person_register(
            acting_user=admin,
            data=services.PersonData(
                name=demo_name(rng),
                area=rng.choice(villages),
                gender=rng.choice(["male", "female"]),
                birth_date=birth,
                no_id_reason=reason,
            ),
        )
        created += 1
    return f"待核对记录：新增 {created} 条（无身份证号码、疑似重复）。"
