-- A backfill's run names its subscription, so that a second backfill of it waits for the first to
-- finish instead of calling the same slots again (two replicas, or a double click).
ALTER TABLE "subscription_scheduler"."runs" ADD COLUMN "subscription_id" uuid;--> statement-breakpoint
CREATE INDEX "runs_open_backfill_idx" ON "subscription_scheduler"."runs" USING btree ("subscription_id") WHERE trigger = 'backfill' AND finished_at IS NULL;