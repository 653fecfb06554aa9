from django.core.management.base import BaseCommand

from aidcases.models import User
from aidcases.roles import group_name, sync_role_groups


class Command(BaseCommand):
    help = "创建/更新每个角色对应的用户组及其权限（幂等，migrate 后也会自动执行）。"

    def handle(self, *args, **options):
        for role, count in sync_role_groups().items():
            self.stdout.write(f"{group_name(role)}（{User.Role(role).value}）：{count} 项权限")
