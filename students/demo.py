"""Demo data of the students app: schools, 困难学生 and 留守儿童."""

from __future__ import annotations

import random

from aidcases import pii, services
from aidcases.models import AidCase, Area, Person, User
from aidcases.seeding import demo_birth, demo_id_number, demo_name, demo_phone, register
from students import services as student_services

SCHOOLS = {
    "149901101": ["城关第一小学", "城关中学", "青山县第一高级中学"],
    "149901102": ["河西小学", "河西初级中学"],
    "149901103": ["石嘴小学", "石嘴中学"],
    "149901201": ["东冶小学", "东冶中学", "青山县职业中学"],
    "149901202": ["白家庄小学", "白家庄初级中学"],
}
STUDENTS_PER_TOWNSHIP = 30
LEFT_BEHIND_PER_TOWNSHIP = 24
GRADES = {
    "primary": ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"],
    "junior": ["初一", "初二", "初三"],
    "senior": ["高一", "高二", "高三"],
    "vocational": ["中职一年级", "中职二年级", "中职三年级"],
}
BIRTH_YEARS = {
    "primary": (2014, 2019),
    "junior": (2011, 2013),
    "senior": (2008, 2010),
    "vocational": (2008, 2010),
}
WORK_PLACES = ["太原市", "北京市", "天津市", "江苏省苏州市", "广东省东莞市", "浙江省宁波市", ""]


@register("students", order=20)
def seed_students(admin: User, rng: random.Random) -> str:
    if AidCase.objects.filter(
        category__in=[AidCase.Category.STUDENT, AidCase.Category.LEFT_BEHIND],
        person__area__path__startswith="/149901/",
    ).exists():
        return "学生：已有演示数据，跳过。"
    created_students = created_children = 0
    for township_code, school_names in SCHOOLS.items():
        township = Area.objects.get(code=township_code)
        villages = list(township.children.filter(level=Area.Level.VILLAGE))
        schools = [
            student_services.school_get_or_create(acting_user=admin, name=n, township=township)[0]
            for n in school_names
        ]
        for i in range(STUDENTS_PER_TOWNSHIP + LEFT_BEHIND_PER_TOWNSHIP):
            left_behind = i >= STUDENTS_PER_TOWNSHIP
            school = rng.choice([s for s in schools if s.stage in GRADES] or schools)
            stage = school.stage if school.stage in GRADES else "primary"
            female = rng.random() < 0.5
            birth = demo_birth(rng, *BIRTH_YEARS[stage])
            number = demo_id_number(rng, birth, female=female, area="149901")
            name = demo_name(rng)
            village = rng.choice(villages)
            guardian = demo_name(rng)
            relationship = rng.choice(["祖父", "祖母", "外祖母", "母亲", "父亲"])
            guardian_phone = demo_phone(rng)
            level = rng.choice(["special", "hard", "general"])
            flags = rng.sample(["registered_poor", "dibao", "single_parent", "disability"], 1)
            grade = rng.choice(GRADES[stage])
            father, mother = rng.choice(WORK_PLACES), rng.choice(WORK_PLACES)
            if Person.objects.filter(id_number_hash=pii.id_hash(number)).exists():
                continue
            person = services.person_register(
                acting_user=admin,
                data=services.PersonData(
                    name=name,
                    area=village,
                    id_number=number,
                    guardian_name=guardian,
                    guardian_relationship=relationship,
                    guardian_phone=guardian_phone,
                ),
            )
            category = AidCase.Category.LEFT_BEHIND if left_behind else AidCase.Category.STUDENT
            case = services.case_open(
                acting_user=admin,
                person=person,
                category=category,
                hardship_level="" if left_behind else level,
                flags=[] if left_behind else flags,
            )
            if left_behind:
                student_services.left_behind_profile_save(
                    acting_user=admin,
                    case=case,
                    school=school,
                    grade=grade,
                    father_work_place=father or "太原市",
                    mother_work_place=mother,
                    guardian_age=rng.randrange(48, 78),
                    guardian_health=rng.choice(["良好", "一般", "慢性病"]),
                    teacher_name=demo_name(rng),
                    parent_contact_frequency=rng.choice(["每周", "每月", "偶尔"]),
                )
                created_children += 1
            else:
                student_services.student_profile_save(
                    acting_user=admin,
                    case=case,
                    school=school,
                    grade=grade,
                    class_name=f"{rng.randrange(1, 6)}班",
                )
                created_students += 1
    return f"学生：新增困难学生 {created_students} 人、留守儿童 {created_children} 人。"
