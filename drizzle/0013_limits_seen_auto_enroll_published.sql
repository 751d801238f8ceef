-- What operators see of the call limits (getStatus().limits, listInstances(), the dashboard): the rate
-- last set for every instance, each instance's own limits, and its calls in flight and waiting at its
-- last report. And autoEnroll, published with the schedule settings, which the CLI's processes follow.
ALTER TABLE "subscription_scheduler"."call_rates" ADD COLUMN "per_second" double precision;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."instances" ADD COLUMN "max_concurrent_calls" integer;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."instances" ADD COLUMN "max_calls_per_second" double precision;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."instances" ADD COLUMN "calls" jsonb;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."settings" ADD COLUMN "auto_enroll" boolean;