import { createHash, timingSafeEqual } from 'node:crypto'

/** The cookie the login form sets: the token itself, HttpOnly, SameSite=Strict (no cross-site POST carries it). */
export const TOKEN_COOKIE = 'tidings_console_token'

/** Compares in constant time (hashes first, so the lengths match). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined || given === '') return false
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(expected), digest(given))
}
