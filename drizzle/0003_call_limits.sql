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
--> statement-breakpoint
-- The sweep's sort keys are expressions the planner has no statistics for: without these it
-- guesses a third of the table is due, and counting the due rows scans the table. PostgreSQL 14+.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE 'CREATE STATISTICS IF NOT EXISTS subscription_processing_due_key_stats ON (COALESCE(next_run_at, ''-infinity''::timestamptz)) FROM subscription_processing';
    EXECUTE 'CREATE STATISTICS IF NOT EXISTS subscription_processing_lease_key_stats ON (COALESCE(lease_expires_at, ''-infinity''::timestamptz)) FROM subscription_processing';
  END IF;
END $$;
