-- The instant a row's first success was called for, when it had no phase yet (a new subscription's first sweep, at the
-- sweep's instant): that call spent its local day's slot under its own key, and backfill() calls that day under it.
-- Rows that ran before keep NULL: a backfill over their first day calls its slot under the slot's key, as before.
ALTER TABLE "subscription_processing" ADD COLUMN "first_run_for" timestamp with time zone;
