CREATE TABLE IF NOT EXISTS "subscription_scheduler"."call_permits" (
	"scope" text NOT NULL,
	"slot" integer NOT NULL,
	"holder" uuid,
	"expires_at" timestamp with time zone DEFAULT '-infinity'::timestamptz NOT NULL,
	CONSTRAINT "call_permits_scope_slot_pk" PRIMARY KEY("scope","slot")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "subscription_scheduler"."call_rates" (
	"scope" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone DEFAULT '-infinity'::timestamptz NOT NULL
);
