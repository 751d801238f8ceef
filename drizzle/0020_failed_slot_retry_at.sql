-- While a row is failed, no sweep tries its slot again before retry_at: a backoff between sweeps, so that a slot
-- that keeps failing (a permanent 4xx) is not called at every sweep of a frequent cron.
ALTER TABLE "subscription_processing" ADD COLUMN "retry_at" timestamp with time zone;