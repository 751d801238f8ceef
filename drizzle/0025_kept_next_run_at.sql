-- The next slot a row had when a run on demand (runSubscription()), made before that slot, failed: next_run_at then
-- holds the failed run's instant, so that its retries carry its key, and the success goes on from here, not from that
-- instant. Without it, a failed "Process now", retried, brought back the slots skipped since.
ALTER TABLE "subscription_processing" ADD COLUMN "kept_next_run_at" timestamp with time zone;
