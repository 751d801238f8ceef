/** The host application's own table, as the tests' "host" creates it. The library never does. */
export const HOST_SUBSCRIPTIONS_DDL = `
  CREATE TABLE IF NOT EXISTS subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid,
    frequency text,
    active boolean NOT NULL DEFAULT true
  )`

/** The MVP design's exact DDL for subscription_processing. */
export const SEED_PROCESSING_DDL = `
  CREATE TABLE IF NOT EXISTS subscription_processing (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    subscription_id UUID NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    status VARCHAR(50) NOT NULL DEFAULT 'pending',
    next_run_at TIMESTAMP WITH TIME ZONE,
    last_run_at TIMESTAMP WITH TIME ZONE,
    error TEXT,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
  )`
