"""Overdue-balance reminders: pure rules (policy), the SQL that finds accounts (select), the
outbox that makes each reminder go out once (outbox), the run (run) and its report (report)."""
