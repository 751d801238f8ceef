-- What operators see of the call limits (getStatus().limits, listInstances(), the dashboard): the rate
-- last set for every instance, each instance's own limits, and its calls in flight and waiting at its last report.
ALTER TABLE "subscription_scheduler"."call_rates" ADD COLUMN "per_second" double precision;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."instances" ADD COLUMN "max_concurrent_calls" integer;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."instances" ADD COLUMN "max_calls_per_second" double precision;--> statement-breakpoint
ALTER TABLE "subscription_scheduler"."instances" ADD COLUMN "calls" jsonb;