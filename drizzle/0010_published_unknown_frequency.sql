-- The unknownFrequency option, published beside the schedule settings: a CLI run-now or worker
-- never calls a misspelt cadence daily where the host's instances would fail it.
ALTER TABLE "subscription_scheduler"."settings" ADD COLUMN "unknown_frequency" text;