-- A note of the caller's own on a pause, resume, skip or reschedule ({ note }), kept with the history entry it wrote.
ALTER TABLE "subscription_scheduler"."history" ADD COLUMN "note" text;