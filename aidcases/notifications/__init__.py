"""The notification centre: the list, mark one or all read (the writes are in
aidcases/services/notifications.py, the kinds of reminder in aidcases/reminders.py)."""
