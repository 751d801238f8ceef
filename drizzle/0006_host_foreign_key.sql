-- The foreign key from subscription_processing to the host's subscriptions, cascading deletes.
-- 0000 creates it with the table, but a table adopted from the MVP keeps what it had: no foreign
-- key, or one without ON DELETE CASCADE. Without it a deleted subscription's row stays (or the
-- host's delete fails), enroll() accepts unknown ids, and the count of unenrolled subscriptions
-- is wrong. migrate() refuses first, naming them, when rows name subscriptions that do not exist.
DO $$
DECLARE
  existing record;
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_constraint c
     WHERE c.conrelid = 'subscription_processing'::regclass AND c.contype = 'f'
       AND c.confrelid = 'subscriptions'::regclass AND c.confdeltype = 'c'
       AND c.conkey = ARRAY[(SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = 'subscription_processing'::regclass AND a.attname = 'subscription_id')]
  ) THEN
    FOR existing IN
      SELECT c.conname FROM pg_constraint c
       WHERE c.conrelid = 'subscription_processing'::regclass AND c.contype = 'f' AND c.confrelid = 'subscriptions'::regclass
    LOOP
      EXECUTE format('ALTER TABLE subscription_processing DROP CONSTRAINT %I', existing.conname);
    END LOOP;
    ALTER TABLE subscription_processing ADD CONSTRAINT subscription_processing_subscription_id_fkey
      FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE;
  END IF;
END $$;
