-- retryFailed() (the claim's `failed` kind) walks the rows failed, or paused for failing, in slot order, a page at a
-- time. With no index of that order each page scanned and sorted every such row: 630 ms a page with 100k failed rows,
-- a minute to retry them all. Only those rows are in this index, so it costs nothing while nothing fails.
CREATE INDEX "subscription_processing_failed_idx" ON "subscription_processing" USING btree (COALESCE("next_run_at", '-infinity'::timestamptz),"id") WHERE status = 'failed' OR (status = 'paused' AND paused_reason = 'failures');
