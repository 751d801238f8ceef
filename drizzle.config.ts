import { defineConfig } from 'drizzle-kit'

// Generates the SQL shipped in drizzle/. Each generated file is then made safe to run against
// a database that already holds the MVP's subscription_processing table (IF NOT EXISTS).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './drizzle',
})
