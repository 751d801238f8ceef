-- The largest fire lateness of a run's calls: the percentiles read from its histogram's fixed
-- buckets are capped by it, so a run of calls all 13 s late no longer reads a p95 of 29 s.
ALTER TABLE "subscription_scheduler"."runs" ADD COLUMN "lateness_max_ms" integer;
