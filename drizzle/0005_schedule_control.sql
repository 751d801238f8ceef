-- Granular control: a subscription's own time of day, start and end, a pause that ends by
-- itself, its history (skips, pauses, resumes, reschedules, backfills), and the schedule
-- defaults every process shares (settings).
CREATE TABLE IF NOT EXISTS "subscription_scheduler"."history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subscription_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"slot" timestamp with time zone,
	"detail" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "run_at" text;--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "starts_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "ends_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscription_processing" ADD COLUMN IF NOT EXISTS "paused_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "history_subscription_idx" ON "subscription_scheduler"."history" USING btree ("subscription_id","at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "history_at_idx" ON "subscription_scheduler"."history" USING btree ("at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "subscription_processing_paused_until_idx" ON "subscription_processing" USING btree ("paused_until") WHERE status = 'paused' AND paused_until IS NOT NULL;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "subscription_scheduler"."settings" (
	"scope" text PRIMARY KEY NOT NULL,
	"timezone" text NOT NULL,
	"run_at" text NOT NULL,
	"catch_up" text NOT NULL,
	"frequencies" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
