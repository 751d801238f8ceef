-- The zone a reschedule moved a subscription out of, kept in its history: after two changes of
-- zone between runs, the local days it spent are still read in the zone it spent them in.
ALTER TABLE "subscription_scheduler"."history" ADD COLUMN "from_zone" text;