-- The pg-boss schema each instance's queues are in (bossSchema): an instance under another schema works none of this one's jobs, so
-- listInstances(), the CLI's status and the work: false watch leave it out. Null in rows an older version wrote.
ALTER TABLE "subscription_scheduler"."instances" ADD COLUMN "boss_schema" text;