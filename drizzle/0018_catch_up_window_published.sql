-- catchUpWindowDays, published with the schedule settings, which the CLI's processes follow (run-now, a CLI worker):
-- how far back catchUp 'all' replays missed slots. Null: no limit, and in rows published before it.
ALTER TABLE "subscription_scheduler"."settings" ADD COLUMN "catch_up_window_days" double precision;