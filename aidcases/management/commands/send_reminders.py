"""python manage.py send_reminders [--kind K] [--quarter 2026Q4] [--stage start|mid|end] [--dry-run]

Runs the same service as the daily beat task (`services.reminders_run`): each kind's
reminders due today — or for the quarter and stage given — claimed once and sent as
notifications (and emails where an address is known). Prints one line per reminder: who
would be (--dry-run) or was reminded, or that it had been sent before. Exit 0; a bad option
exits non-zero with the reason.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from aidcases import reminders, services


class Command(BaseCommand):
    help = (
        "发送提醒（服务队季度活动、逾期跟进事项、留守儿童/特困人员走访）；--dry-run 只列出不发送。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            choices=[k.kind for k in reminders.kinds()],
            help="只发送一种提醒（默认：今天应发的全部）："
            + "、".join(f"{k.kind} {k.label}" for k in reminders.kinds()),
        )
        parser.add_argument("--quarter", help="季度，如 2026Q4（默认：今天所在季度）")
        parser.add_argument(
            "--stage",
            choices=reminders.STAGES,
            help="季度提醒的阶段：start 季度初、mid 季度中、end 季度末前两周",
        )
        parser.add_argument("--dry-run", action="store_true", help="只列出将提醒谁，不发送、不写入")

    def handle(self, *args, kind=None, quarter=None, stage=None, dry_run=False, **options):
        if kind is None and (quarter or stage):
            raise CommandError("指定 --quarter 或 --stage 时请同时用 --kind 指明提醒类型。")
        chosen = [kind] if kind else [k.kind for k in reminders.kinds()]
        for name in chosen:
            try:
                plan, outcomes = services.reminders_run(
                    acting_user=None, kind=name, quarter=quarter, stage=stage, dry_run=dry_run
                )
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from None
            self._report(name, plan, outcomes, dry_run)
        if dry_run:
            self.stdout.write("（试运行：未发送任何提醒，未写入任何内容）")

    def _report(self, kind, plan, outcomes, dry_run):
        head = f"[{reminders.kind_label(kind)} · {plan.period}]"
        if plan.note:
            self.stdout.write(f"{head} {plan.note}")
        for outcome in outcomes:
            r = outcome.reminder
            names = "、".join(str(u) for u in r.recipients) or "（无接收人）"
            if outcome.sent:
                state = "将提醒" if dry_run else "已提醒"
            else:
                state = "此前已提醒，不再发送"
            self.stdout.write(f"{head} {r.about} → {names}：{state}")
        new = [o for o in outcomes if o.sent]
        notes = sum(len(o.reminder.recipients) for o in new)
        verb = "将发送" if dry_run else "本次发送"
        self.stdout.write(
            f"{head} 共 {len(outcomes)} 条提醒：{verb} {len(new)} 条（通知 {notes} 条），"
            f"此前已发送 {len(outcomes) - len(new)} 条。"
        )
