from __future__ import annotations

import itertools
from datetime import date

import factory
from factory.django import DjangoModelFactory
from stdnum.cn import ric

from aidcases import services
from aidcases.models import Area, Person, User
from aidcases.services import PersonData


class AreaFactory(DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{149800 + n:06d}")
    name = factory.Sequence(lambda n: f"测试区域{n}")
    level = Area.Level.COUNTY
    parent = None

    @factory.lazy_attribute
    def path(self) -> str:
        return f"{self.parent.path}{self.code}/" if self.parent else f"/{self.code}/"


def child_area(parent: Area, suffix: str, name: str, level: str) -> Area:
    return AreaFactory(code=f"{parent.code}{suffix}", name=name, level=level, parent=parent)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="zh_CN")
    role = User.Role.COUNTY_STAFF
    area = None
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-9")

    @factory.post_generation
    def groups_for_role(self, create, extracted, **kwargs):
        if create:
            from aidcases.roles import put_in_role_group

            self.is_staff = self.is_superuser = self.role == User.Role.ADMIN
            self.save()
            put_in_role_group(self)


_id_serial = itertools.count(1)


def make_id_number(birth: date | None = None, *, female: bool = False, area: str = "149901") -> str:
    """A valid 18-character ID number (right checksum) that no other test uses."""
    birth = birth or date(2012, 5, 17)
    serial = next(_id_serial) % 500
    seq = f"{serial * 2 + (0 if female else 1):03d}"  # 17th digit odd = male
    body = f"{area}{birth:%Y%m%d}{seq}"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check digit


def _system_user() -> User:
    user, _ = User.objects.get_or_create(
        username="factory_system",
        defaults={"role": User.Role.ADMIN, "is_staff": True, "is_superuser": True},
    )
    return user


def make_person(
    area: Area,
    *,
    name: str = "赵熙晨",
    birth: date | None = None,
    female: bool = False,
    id_number: str | None = None,
    category: str | None = None,
    **fields,
) -> Person:
    """Register a person through the real service (encryption, search tokens,
    audit) and optionally open a case of `category`."""
    if id_number is None and not fields.get("no_id_reason"):
        id_number = make_id_number(birth, female=female)
    data = PersonData(
        name=name,
        area=area,
        id_number=id_number or "",
        gender=fields.pop("gender", ""),
        **fields,
    )
    person = services.person_register(acting_user=_system_user(), data=data)
    if category:
        services.case_open(acting_user=_system_user(), person=person, category=category)
    return person
