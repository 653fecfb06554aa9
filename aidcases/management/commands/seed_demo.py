"""A demo county so that every screen shows data. Safe to run again."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from aidcases import services
from aidcases.audit import audit_log
from aidcases.models import Area, User
from aidcases.roles import put_in_role_group, sync_role_groups

DEMO_PASSWORD = "aidcases-demo"  # noqa: S105 - printed for the demo, DEBUG only

COUNTY = ("149901", "青山县")
TOWNSHIPS = {
    ("149901101", "城关镇"): ["东关社区", "西关社区", "南街村", "北街村", "新华村"],
    ("149901102", "河西镇"): ["河西村", "柳树湾村", "王家庄村", "前进村"],
    ("149901103", "石嘴镇"): ["石嘴村", "沙坪村", "红岩村", "高家沟村"],
    ("149901201", "东冶乡"): ["东冶村", "李家岭村", "槐荫村", "永安村", "马圈村"],
    ("149901202", "白家庄乡"): ["白家庄村", "上寨村", "下寨村", "杨树坪村"],
}
GROUPS = {"149901101203": ["一组", "二组", "三组"]}  # 南街村's residents' groups

# (username, full name, role, area code)
DEMO_USERS = [
    ("admin", "系统管理员", User.Role.ADMIN, None),
    ("county", "刘晓燕", User.Role.COUNTY_STAFF, COUNTY[0]),
    ("approver", "王建国", User.Role.APPROVER, COUNTY[0]),
    ("officer_a", "赵海峰", User.Role.TOWNSHIP_OFFICER, "149901101"),
    ("officer_b", "孙丽娟", User.Role.TOWNSHIP_OFFICER, "149901201"),
    ("leader", "陈志强", User.Role.TEAM_LEADER, "149901102"),
    ("auditor", "周敏", User.Role.AUDITOR, None),
]


def demo_area_rows() -> list[services.AreaRow]:
    rows = [services.AreaRow(line=1, code=COUNTY[0], name=COUNTY[1], parent_code="")]
    for (code, name), villages in TOWNSHIPS.items():
        rows.append(
            services.AreaRow(line=len(rows) + 1, code=code, name=name, parent_code=COUNTY[0])
        )
        for i, village in enumerate(villages, start=1):
            vcode = f"{code}{(200 if village.endswith('村') else 0) + i:03d}"
            rows.append(
                services.AreaRow(line=len(rows) + 1, code=vcode, name=village, parent_code=code)
            )
            for j, group in enumerate(GROUPS.get(vcode, []), start=1):
                rows.append(
                    services.AreaRow(
                        line=len(rows) + 1, code=f"{vcode}{j:03d}", name=group, parent_code=vcode
                    )
                )
    return rows


class Command(BaseCommand):
    help = "生成演示数据：一个示范县（乡镇、村）和每个角色一个演示账号。可重复执行。"

    @transaction.atomic
    def handle(self, *args, **options):
        sync_role_groups()
        result = services.areas_load(acting_user=None, rows=demo_area_rows())
        if result.errors:
            raise RuntimeError("; ".join(result.errors))
        admin = self._admin()
        created = 0
        for username, full_name, role, area_code in DEMO_USERS[1:]:
            if User.objects.filter(username=username).exists():
                continue
            services.user_create(
                acting_user=admin,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                area=Area.objects.get(code=area_code) if area_code else None,
                full_name=full_name,
            )
            created += 1
        self.stdout.write(
            f"演示数据就绪：区划新增 {result.created} 个（未变 {result.unchanged} 个），"
            f"新建账号 {created} 个。"
        )
        import random

        from aidcases.seeding import seeders

        for name, seeder in seeders():
            # One generator per seeder: the same data on every run, whatever ran before.
            self.stdout.write(seeder(admin, random.Random(name)))
        self._print_logins()

    def _admin(self) -> User:
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            admin = User(
                username="admin",
                full_name="系统管理员",
                role=User.Role.ADMIN,
                is_staff=True,
                is_superuser=True,
            )
            admin.set_password(DEMO_PASSWORD)
            admin.save()
            put_in_role_group(admin)
            audit_log(actor=None, verb="user.create", obj=admin, details={"seed": True})
        return admin

    def _print_logins(self) -> None:
        if not settings.DEBUG:
            self.stdout.write("（非 DEBUG 模式，不显示演示密码。）")
            return
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        users = {u.username: u for u in User.objects.select_related("area")}
        for username, *_ in DEMO_USERS:
            u = users.get(username)
            if u is not None:
                where = u.area.name if u.area else "全县"
                self.stdout.write(
                    f"  {username:<10} {u.get_role_display():<8} {u.full_name}（{where}）"
                )
