-- The retry policy the scheduling instances publish beside their schedule settings: the CLI's
-- one-off runs and workers retry the calls they make as the fleet does, not with the defaults.
ALTER TABLE "subscription_scheduler"."settings" ADD COLUMN "retry" jsonb;