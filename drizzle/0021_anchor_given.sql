-- Whether a row's anchor was given (an anchor passed to enroll() or reschedule()): until its first run, a new startsAt
-- moves a phase taken from elsewhere (its startsAt, the day it was enrolled), never one given.
ALTER TABLE "subscription_processing" ADD COLUMN "anchor_given" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Rows from before, never run: an anchor not taken from startsAt counts as given, as it did then.
UPDATE "subscription_processing" SET "anchor_given" = true
 WHERE "anchor_at" IS NOT NULL AND "anchor_at" IS DISTINCT FROM "starts_at" AND "last_completed_for" IS NULL AND "last_run_at" IS NULL;
