"""Demo-data seeders. `seed_demo` runs the hub's, then those the leaf apps
register from AppConfig.ready() (the hub never imports them)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from stdnum.cn import ric

from aidcases.models import User

Seeder = Callable[[User, random.Random], str]  # returns a one-line summary
_SEEDERS: list[tuple[int, str, Seeder]] = []


def register(name: str, *, order: int = 100) -> Callable[[Seeder], Seeder]:
    def decorator(func: Seeder) -> Seeder:
        if name not in {n for _o, n, _f in _SEEDERS}:
            _SEEDERS.append((order, name, func))
            _SEEDERS.sort(key=lambda t: t[:2])
        return func

    return decorator


def seeders() -> list[tuple[str, Seeder]]:
    return [(name, func) for _order, name, func in _SEEDERS]


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文单"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕鹏辉建国文博宇浩然子涵梓轩欣怡雨萱思远晨熙佳琪俊杰嘉怡一诺梦瑶志强春梅海燕"  # noqa: E501


def demo_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def demo_id_number(rng: random.Random, birth: date, *, female: bool, area: str) -> str:
    seq = rng.randrange(0, 500) * 2 + (0 if female else 1)
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last digit given


def demo_birth(rng: random.Random, start_year: int, end_year: int) -> date:
    start = date(start_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(end_year, 12, 31) - start).days))


def demo_phone(rng: random.Random) -> str:
    prefix = rng.choice(["135", "136", "138", "139", "150", "151", "158", "159", "186", "187"])
    return f"{prefix}{rng.randrange(10**8):08d}"
