-- A failed row sorts in the due index at its retry_at when that is later than its slot, so that rows waiting out a
-- retry delay (a worker outage's worth) lie beyond a sweep's range instead of being walked and filtered by every sweep.
-- The new index is built before the old one is dropped: building it blocks writes to the table (a few seconds per
-- million rows), and the drop, which blocks reads too, comes only at the end, for an instant.
CREATE INDEX "subscription_processing_due_idx_0023" ON "subscription_processing" USING btree (GREATEST(COALESCE("next_run_at", '-infinity'::timestamptz), CASE WHEN "status" = 'failed' THEN "retry_at" END),"id") WHERE status IN ('pending', 'failed', 'completed');--> statement-breakpoint
-- Statistics on the new key, as 0003 keeps on the slot: without them the planner guesses a third of the table is due,
-- and counting the due rows scans the table once many rows have failed. PostgreSQL 14+.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE 'CREATE STATISTICS IF NOT EXISTS subscription_processing_due_sort_stats ON (GREATEST(COALESCE(next_run_at, ''-infinity''::timestamptz), CASE WHEN status = ''failed'' THEN retry_at END)) FROM subscription_processing';
  END IF;
END $$;--> statement-breakpoint
DROP INDEX IF EXISTS "subscription_processing_due_idx";--> statement-breakpoint
ALTER INDEX "subscription_processing_due_idx_0023" RENAME TO "subscription_processing_due_idx";
