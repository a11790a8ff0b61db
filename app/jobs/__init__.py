"""Command-line jobs run by cron or a Kubernetes CronJob: retention, outbox, reminders."""
