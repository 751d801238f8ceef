-- An adopted table keeps its columns, but the scheduler's inserts (enrolment) write only
-- subscription_id and rely on the defaults its schema declares. The MVP's DDL has them; a table
-- written by hand may not (ids made in application code, a status with no default), which made
-- enrolment insert rows in no status, or fail on a NULL id. Each default is set only where the
-- column has none: a host's own default (another uuid function, say) is kept.
DO $$
DECLARE
  wanted text[][] := ARRAY[
    ARRAY['id', 'gen_random_uuid()'],
    ARRAY['status', '''pending'''],
    ARRAY['metadata', '''{}''::jsonb'],
    ARRAY['created_at', 'now()'],
    ARRAY['updated_at', 'now()']
  ];
  i int;
BEGIN
  FOR i IN 1 .. array_length(wanted, 1) LOOP
    IF EXISTS (
      SELECT 1 FROM pg_attribute a
       WHERE a.attrelid = to_regclass('subscription_processing') AND a.attname = wanted[i][1] AND NOT a.attisdropped
         AND NOT a.atthasdef
    ) THEN
      EXECUTE format('ALTER TABLE subscription_processing ALTER COLUMN %I SET DEFAULT %s', wanted[i][1], wanted[i][2]);
    END IF;
  END LOOP;
END $$;
