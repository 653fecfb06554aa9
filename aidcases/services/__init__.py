"""Writes of the hub app, one module per domain; `from aidcases import services`
and `services.<name>` reach every one of them.

    common       acting, require_perm, can_write_in, require_area — the checks and
                 the history context every write (the leaf apps' too) starts with
    users        accounts, roles and areas of users; sign-in events
    areas        the area tree loaded from (code, name, parent) rows
    jobs         background jobs: start, run once, fail, expire files
    people       PersonData → person_clean → register / update / reveal / (de)activate;
                 people_register_batch for a checked roster
    cases        aid cases and their one-to-one profiles (case_profile_save, 特困)
    merge        duplicate records: mark distinct, merge
    attachments  store a checked upload, choose the photo, remove, audit downloads
    notifications  the notification centre; reminders claimed once and sent

The rules every write here follows (and a leaf app's services too):
- arguments are keyword-only and typed; `acting_user` is always passed (None only
  for system work such as a command loading areas);
- permission first (`require_perm`), then scope (`require_area`) — out of scope is
  PermissionDenied, invalid input ValidationError with Chinese messages by field;
- one transaction (`@transaction.atomic`, or `with transaction.atomic(), acting(…)`
  around the saves) with the `AuditEvent` row written inside it, so a write and its
  audit row commit together or not at all; saves of tracked models run inside
  `acting(acting_user)` so the trigger-written history names who did it.
"""

from aidcases.services.areas import (
    LEVEL_BY_DEPTH,
    AreaCheck,
    AreaLoadResult,
    AreaRow,
    areas_check,
    areas_load,
)
from aidcases.services.attachments import (
    attachment_add,
    attachment_record_download,
    attachment_remove,
    person_set_photo,
)
from aidcases.services.cases import (
    TEKUN_FIELDS,
    case_close,
    case_open,
    case_profile_save,
    case_update,
    tekun_profile_save,
)
from aidcases.services.common import acting, can_write_in, require_area, require_perm
from aidcases.services.jobs import (
    job_delete_expired_files,
    job_fail_stale,
    job_mark_failed,
    job_record_download,
    job_run,
    job_start,
)
from aidcases.services.merge import person_mark_distinct, person_merge
from aidcases.services.notifications import (
    ReminderOutcome,
    notification_mark_read,
    notifications_create,
    notifications_mark_all_read,
    reminder_claim,
    reminders_run,
    reminders_send,
)
from aidcases.services.people import (
    PERSON_FIELDS,
    NewPersonEntry,
    PersonData,
    PersonUpdateEntry,
    people_register_batch,
    people_update_batch,
    person_clean,
    person_record_view,
    person_register,
    person_reveal,
    person_set_active,
    person_update,
)
from aidcases.services.users import (
    user_create,
    user_record_login,
    user_record_login_failed,
    user_record_logout,
    user_record_password_change,
    user_reset_password,
    user_set_active,
    user_update,
)

__all__ = [
    # common
    "acting",
    "can_write_in",
    "require_area",
    "require_perm",
    # users
    "user_create",
    "user_record_login",
    "user_record_login_failed",
    "user_record_logout",
    "user_record_password_change",
    "user_reset_password",
    "user_set_active",
    "user_update",
    # areas
    "LEVEL_BY_DEPTH",
    "AreaCheck",
    "AreaLoadResult",
    "AreaRow",
    "areas_check",
    "areas_load",
    # jobs
    "job_delete_expired_files",
    "job_fail_stale",
    "job_mark_failed",
    "job_record_download",
    "job_run",
    "job_start",
    # notifications
    "ReminderOutcome",
    "notification_mark_read",
    "notifications_create",
    "notifications_mark_all_read",
    "reminder_claim",
    "reminders_run",
    "reminders_send",
    # people
    "PERSON_FIELDS",
    "NewPersonEntry",
    "PersonUpdateEntry",
    "PersonData",
    "people_register_batch",
    "people_update_batch",
    "person_clean",
    "person_record_view",
    "person_register",
    "person_reveal",
    "person_set_active",
    "person_update",
    # cases
    "TEKUN_FIELDS",
    "case_close",
    "case_open",
    "case_profile_save",
    "case_update",
    "tekun_profile_save",
    # merge
    "person_mark_distinct",
    "person_merge",
    # attachments
    "attachment_add",
    "attachment_record_download",
    "attachment_remove",
    "person_set_photo",
]
