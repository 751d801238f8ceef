CREATE TABLE "subscription_scheduler"."failures" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"processing_id" uuid NOT NULL,
	"subscription_id" uuid NOT NULL,
	"run_id" uuid,
	"scheduled_for" timestamp with time zone NOT NULL,
	"attempt" integer NOT NULL,
	"final" boolean NOT NULL,
	"error" text NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "paused_reason" text;--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "last_response" jsonb;--> statement-breakpoint
CREATE INDEX "failures_subscription_idx" ON "subscription_scheduler"."failures" USING btree ("subscription_id","failed_at");--> statement-breakpoint
CREATE INDEX "failures_failed_at_idx" ON "subscription_scheduler"."failures" USING btree ("failed_at");--> statement-breakpoint
CREATE INDEX "runs_unfinished_idx" ON "subscription_scheduler"."runs" USING btree ("started_at") WHERE finished_at IS NULL;