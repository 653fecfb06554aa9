from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from aidcases.models import Area, User


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
