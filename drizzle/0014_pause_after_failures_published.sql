-- pauseAfterConsecutiveFailures, published with the schedule settings, which the CLI's processes follow
-- (run-now, retry-failed, a CLI worker): their calls pause a subscription failing in a row as the workers do. 0: never.
ALTER TABLE "subscription_scheduler"."settings" ADD COLUMN "pause_after_failures" integer;