-- Calls paused fleet-wide (pauseCalls()), per scheduler (queue prefix): while its row is there no sweep claims and no
-- instance calls the worker. resumeCalls() deletes it.
CREATE TABLE "subscription_scheduler"."calls_pause" (
	"scope" text PRIMARY KEY NOT NULL,
	"paused_at" timestamp with time zone NOT NULL,
	"note" text
);
