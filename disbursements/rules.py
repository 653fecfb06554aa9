"""Who may do what with money (django-rules; area scoping stays in access.py).

Township officers nominate in their township; county staff verify, lock, publish and
pay; approvers approve; auditors read. Nobody approves what they created or nominated
(checked in the service, per batch)."""

from __future__ import annotations

import rules

from aidcases.rules import (
    is_admin,
    is_approver,
    is_auditor,
    is_county_staff,
    is_township_officer,
)

rules.add_perm("disbursements.view_money", is_admin | is_county_staff | is_approver | is_auditor)
rules.add_perm("disbursements.manage_funds", is_admin | is_county_staff)
rules.add_perm("disbursements.manage_batches", is_admin | is_county_staff)
rules.add_perm("disbursements.nominate", is_admin | is_county_staff | is_township_officer)
rules.add_perm("disbursements.verify", is_admin | is_county_staff)
rules.add_perm("disbursements.approve", is_approver)
rules.add_perm("disbursements.pay", is_admin | is_county_staff)
