import type { Cluster, Redis } from 'ioredis'

/**
 * Lua scripts, each atomic on the server. Every key a script touches shares the `{<ns>}` hash tag.
 * Time comes from the Redis server (TIME), so processes with skewed clocks agree on due times.
 */

/** Server time in milliseconds with microsecond precision (a double). */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`

/**
 * The body of a pending entry as stored, so a retry or dead letter carries the exact bytes the
 * publisher wrote even when they are not UTF-8 (the consumer reads text). An entry deleted meanwhile
 * (a MAXLEN cap) falls back to the body the consumer sent; a foreign entry without one has none.
 */
const STORED_BODY = `local function storedBody(key, id, fallback)
  local found = redis.call('XRANGE', key, id, id)
  if not found[1] then return fallback end
  local fields = found[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'body' then return fields[i + 1] end
  end
  return ''
end`

/**
 * Retry: put the message in the group's delayed set (or straight into its retry stream when the delay
 * is 0), then XACK the original. KEYS: source stream, delayed set, retry stream.
 * ARGV: group, entry id, delay ms, meta JSON (has a nonce, so zset members are unique), fallback body.
 */
const RETRY = `${NOW_MS}
${STORED_BODY}
local body = storedBody(KEYS[1], ARGV[2], ARGV[5])
local delay = tonumber(ARGV[3])
if delay <= 0 then
  redis.call('XADD', KEYS[3], '*', 'meta', ARGV[4], 'body', body)
else
  redis.call('ZADD', KEYS[2], now + delay, ARGV[4] .. '\\n' .. body)
end
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])`

/**
 * Move due delayed retries into the retry stream. KEYS: delayed set, retry stream. ARGV: batch size.
 * Returns { moved, ms until the next due member or -1 }.
 */
const MOVE_DUE = `${NOW_MS}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local nl = string.find(member, '\\n', 1, true)
  if nl then
    redis.call('XADD', KEYS[2], '*', 'meta', string.sub(member, 1, nl - 1), 'body', string.sub(member, nl + 1))
  end
  redis.call('ZREM', KEYS[1], member)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then
  wait = math.ceil(tonumber(nxt[2]) - now)
  if wait < 0 then wait = 0 end
end
return { #due, wait }`

/**
 * Dead-letter: XADD to the dlq stream (the stored body, then the record's fields) and XACK the
 * original. KEYS: source, dlq. ARGV: group, entry id, fallback body, field, value, …
 */
const DEAD_LETTER = `${STORED_BODY}
local args = { 'XADD', KEYS[2], '*', 'body', storedBody(KEYS[1], ARGV[2], ARGV[3]) }
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
redis.call(unpack(args))
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])`

/**
 * Lease extension: reset the idle time of entries this consumer still owns (XCLAIM … JUSTID, which
 * does not count as a delivery); entries another process has reclaimed meanwhile are left alone and
 * returned. KEYS: stream. ARGV: group, consumer, id, id, …
 */
const EXTEND_LEASE = `local mine = { 'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0' }
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then mine[#mine + 1] = ARGV[i] else lost[#lost + 1] = ARGV[i] end
end
if #mine > 5 then
  mine[#mine + 1] = 'JUSTID'
  redis.call(unpack(mine))
end
return lost`

/**
 * Trim a stream of everything every group has acknowledged: MINID = the smallest of, per group, its
 * oldest pending id, or its last-delivered id when nothing is pending. With no group at all, keep
 * ARGV[1] ms of history. Approximate (~) trimming removes whole radix-tree nodes only, so it never
 * removes more than asked. KEYS: stream. ARGV: orphan retention ms. Returns entries removed.
 */
const TRIM_ACKNOWLEDGED = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  if ams ~= bms then return ams < bms end
  return aseq < bseq
end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
local min = nil
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local candidate = info['last-delivered-id']
  if tonumber(info['pending']) > 0 then
    local summary = redis.call('XPENDING', KEYS[1], info['name'])
    if summary[2] then candidate = summary[2] end
  end
  if min == nil or less(candidate, min) then min = candidate end
end
if min == nil then
  local t = redis.call('TIME')
  local cutoff = tonumber(t[1]) * 1000 - tonumber(ARGV[1])
  if cutoff <= 0 then return 0 end
  min = string.format('%d-0', cutoff)
end
if min == '0-0' then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', min, 'LIMIT', 10000)`

/**
 * Heartbeat of an ephemeral group, scored with the server's clock so that processes whose clocks
 * disagree still agree on which group is silent. KEYS: ephemeral set. ARGV: group.
 */
const HEARTBEAT = `${NOW_MS}
return redis.call('ZADD', KEYS[1], now, ARGV[1])`

/**
 * Remove ephemeral groups silent for ARGV[1] ms (server clock), each in the same step as the check,
 * so a heartbeat can never land between them: the group on the events stream, its retry, delayed and
 * dlq keys (ARGV[2] .. group .. suffix, as in keys.ts), and its heartbeat. KEYS: ephemeral set,
 * events stream. ARGV: expiry ms, key prefix, suffix, suffix, …. Returns the removed groups.
 */
const EXPIRE_EPHEMERAL = `${NOW_MS}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, 50)
for _, group in ipairs(expired) do
  redis.pcall('XGROUP', 'DESTROY', KEYS[2], group)
  for i = 3, #ARGV do redis.call('DEL', ARGV[2] .. group .. ARGV[i]) end
  redis.call('ZREM', KEYS[1], group)
end
return expired`

/** Count and delete a stream in one step. KEYS: stream. */
const PURGE = `local n = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n`

const SCRIPTS = {
  tidingsRetry: { numberOfKeys: 3, lua: RETRY },
  tidingsMoveDue: { numberOfKeys: 2, lua: MOVE_DUE },
  tidingsDeadLetter: { numberOfKeys: 2, lua: DEAD_LETTER },
  tidingsExtendLease: { numberOfKeys: 1, lua: EXTEND_LEASE },
  tidingsTrim: { numberOfKeys: 1, lua: TRIM_ACKNOWLEDGED },
  tidingsPurge: { numberOfKeys: 1, lua: PURGE },
  tidingsHeartbeat: { numberOfKeys: 1, lua: HEARTBEAT },
  tidingsExpireEphemeral: { numberOfKeys: 2, lua: EXPIRE_EPHEMERAL },
} as const

export type ScriptName = keyof typeof SCRIPTS
type Arg = string | Buffer | number

/** Runs the scripts through ioredis' defineCommand (EVALSHA with a fallback to EVAL, pipeline and cluster aware). */
export class Scripts {
  private readonly commands: Record<string, (...args: Arg[]) => Promise<unknown>>

  constructor(client: Redis | Cluster) {
    for (const [name, definition] of Object.entries(SCRIPTS)) {
      if (!(name in client)) client.defineCommand(name, definition)
    }
    this.commands = client as unknown as Record<string, (...args: Arg[]) => Promise<unknown>>
  }

  run(name: ScriptName, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    return this.commands[name]!(...keys, ...args)
  }
}
