-- The scheduler's instances, each reporting itself while it runs, for operators (listInstances(), GET /instances,
-- the dashboard): hosts, versions, roles, circuit breakers, and instances that went silent.
CREATE TABLE "subscription_scheduler"."instances" (
	"id" uuid PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"version" text NOT NULL,
	"schedules" boolean NOT NULL,
	"works" boolean NOT NULL,
	"concurrency" integer NOT NULL,
	"breaker" jsonb,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stopped_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "instances_seen_at_idx" ON "subscription_scheduler"."instances" USING btree ("seen_at");