from aidcases.workdays import is_working_day, working_days_end  # noqa: F401  (moved to the hub)
