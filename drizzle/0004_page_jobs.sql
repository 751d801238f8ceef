-- Engine v2: a pg-boss job per claimed page. A row names the job that owns it while queued;
-- a run counts a deleted row's skip once (run_skips); fire lateness per run; HTTP status of a
-- failure; the index behind listFailing().
CREATE TABLE IF NOT EXISTS "subscription_scheduler"."run_skips" (
	"run_id" uuid NOT NULL REFERENCES "subscription_scheduler"."runs"("id") ON DELETE cascade,
	"processing_id" uuid NOT NULL,
	CONSTRAINT "run_skips_run_id_processing_id_pk" PRIMARY KEY("run_id","processing_id")
);
--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."failures" ADD COLUMN IF NOT EXISTS "status" integer;--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "job_id" uuid;--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "last_failed_for" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."runs" ADD COLUMN IF NOT EXISTS "lateness_histogram" integer[] DEFAULT '{}'::integer[] NOT NULL;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "failures_run_idx" ON "subscription_scheduler"."failures" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "subscription_processing_failing_idx" ON "subscription_processing" USING btree ("updated_at" DESC NULLS LAST) WHERE error IS NOT NULL;
