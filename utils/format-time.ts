/** Unix seconds as a date and time in UTC, the same on the server and in the browser (no hydration mismatch). */
export function formatUtc(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString('en-GB', { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'short' }) + ' UTC'
}
