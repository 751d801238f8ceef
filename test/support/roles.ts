/**
 * The application's role as the README's "Database privileges" section has it: the grants it
 * lists, and a connection string that logs in as the role.
 */

/** The README's runtime grants, for the application's role. */
export function runtimeGrants(role: string): string[] {
  return [
    `GRANT SELECT ON subscriptions TO ${role}`,
    `GRANT SELECT, INSERT, UPDATE ON subscription_processing TO ${role}`,
    `GRANT USAGE ON SCHEMA subscription_scheduler, pgboss TO ${role}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA subscription_scheduler, pgboss TO ${role}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA subscription_scheduler, pgboss TO ${role}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgboss TO ${role}`,
  ]
}

/** `url` (a test database's), logged in as `role` with `password`. */
export function urlAs(url: string, role: string, password: string): string {
  const as = new URL(url)
  as.username = role
  as.password = password
  return as.toString()
}
