-- When a version that writes every settings column published the row (with updated_at): an older version writes
-- only the columns it knows, so a row updated after whole_at holds newer columns it left as a newer version wrote them.
ALTER TABLE "subscription_scheduler"."settings" ADD COLUMN "whole_at" timestamp with time zone;