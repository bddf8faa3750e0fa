import type { DeadLetter, Event } from '@tidings/core'
import type { AttemptRecord, EventTrace, JournalEvent, JournalStats } from '@tidings/journal'
import { html } from 'hono/html'

/**
 * Server-rendered pages. Every value goes through hono's `html` tag, which escapes it: payloads, error
 * messages and reasons are shown as text, whatever they contain.
 */
type Html = ReturnType<typeof html>

export interface PageContext {
  readonly title: string
  readonly base: string
  /** Actions shown (false: read-only, or not signed in). */
  readonly canChange: boolean
  readonly readOnly: boolean
  readonly signedIn: boolean
  readonly notice?: string | undefined
  readonly error?: string | undefined
}

export function layout(context: PageContext, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${context.title} · Tidings console</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f6f7f9; }
  header { background: #1d232b; color: #fff; padding: .6rem 1.2rem; display: flex; gap: 1rem; align-items: center; }
  header a { color: #fff; text-decoration: none; font-weight: 600; }
  main { padding: 1rem 1.2rem; max-width: 1200px; }
  table { border-collapse: collapse; width: 100%; background: #fff; margin: .5rem 0 1rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
  th { background: #eef0f3; font-weight: 600; }
  pre { background: #fff; border: 1px solid #e3e6ea; padding: .6rem; overflow: auto; }
  input[type=search] { width: 60%; padding: .35rem; }
  .outcome-handled { color: #17803d; } .outcome-dead { color: #b42318; font-weight: 600; }
  .outcome-failing { color: #b54708; } .outcome-received { color: #475467; }
  .notice { background: #ecfdf3; border: 1px solid #abefc6; padding: .5rem; }
  .error { background: #fef3f2; border: 1px solid #fecdca; padding: .5rem; }
  .gaps { background: #fffaeb; border: 1px solid #fedf89; padding: .5rem; }
  form.inline { display: inline; }
  code { font-size: 12px; }
</style>
</head>
<body>
<header>
  <a href="${context.base}/">Tidings console</a>
  <span>${context.readOnly ? 'read-only' : context.signedIn ? 'signed in' : html`<a href="${context.base}/login">sign in to replay or purge</a>`}</span>
</header>
<main>
${context.notice ? html`<p class="notice" role="status">${context.notice}</p>` : ''}
${context.error ? html`<p class="error" role="alert">${context.error}</p>` : ''}
${body}
</main>
</body>
</html>`
}

export function searchPage(
  context: PageContext,
  query: string,
  events: readonly JournalEvent[],
  nextCursor: string | undefined,
  recording?: JournalStats,
): Html {
  return layout(
    context,
    html`<h1>Events</h1>
${recording ? gaps(recording) : ''}
<form method="get" action="${context.base}/">
  <input type="search" name="q" value="${query}" placeholder='type:order.* AND data.customer.email = "ada@example.com"' aria-label="query">
  <button type="submit">Search</button>
</form>
<p><small>Terms: <code>type:order.*</code> <code>id:…</code> <code>group:…</code> <code>outcome:dead</code> <code>after:2026-11-01</code> <code>data.orderId: CK*</code> <code>data.customer.email = "…"</code>, with AND, OR, NOT and parentheses.</small></p>
<table id="results">
<thead><tr><th>time</th><th>type</th><th>id</th><th>source</th><th>groups</th></tr></thead>
<tbody>
${events.length === 0 ? html`<tr><td colspan="5">No events match.</td></tr>` : ''}
${events.map(
  (entry) => html`<tr>
  <td>${entry.event.time}</td>
  <td>${entry.event.type}</td>
  <td><a href="${context.base}/events/${encodeURIComponent(entry.event.id)}">${entry.event.id}</a></td>
  <td>${entry.event.source}</td>
  <td>${entry.groups.map((group) => html`<span class="outcome-${group.outcome}">${group.group}: ${group.outcome}</span> `)}</td>
</tr>`,
)}
</tbody>
</table>
${nextCursor ? html`<a href="${context.base}/?q=${encodeURIComponent(query)}&cursor=${encodeURIComponent(nextCursor)}">Older →</a>` : ''}`,
  )
}

/** What this process's journal left out: an operator who finds nothing must know why it may be. */
function gaps(stats: JournalStats): Html | string {
  const parts: string[] = []
  const count = (value: number) => value.toLocaleString('en-US')
  if (stats.shed > 0) {
    parts.push(
      `left out ${count(stats.shed)} routine records (events published, first attempts that succeeded) while the process was saturated${stats.saturated ? ', as it is now' : ''}`,
    )
  }
  if (stats.dropped > 0)
    parts.push(`dropped ${count(stats.dropped)} records its store could not take in time`)
  if (stats.rejected > 0)
    parts.push(`left out ${count(stats.rejected)} records the store refused as they were`)
  if (parts.length === 0) return ''
  const kept = stats.shed > 0 ? '; failures, retries and dead letters were kept while saturated' : ''
  return html`<p class="gaps" role="note">Since it started, this process's journal has ${parts.join('; ')}. A search may miss those${kept}.</p>`
}

export function eventPage(context: PageContext, trace: EventTrace): Html {
  const { event } = trace
  return layout(
    context,
    html`<h1>${event.type}</h1>
<p><code>${event.id}</code> from <code>${event.source}</code> at ${event.time}${event.key ? html`, key <code>${event.key}</code>` : ''}</p>
<h2>Payload</h2>
<pre id="payload">${JSON.stringify(event.data, null, 2)}</pre>
${trace.groups.length === 0 ? html`<p>No group has received it (as far as the journal saw).</p>` : ''}
${trace.groups.map(
  (group) => html`<section class="group" data-group="${group.group}">
<h2>${group.group} <span class="outcome-${group.outcome}">${group.outcome}</span></h2>
<table>
<thead><tr><th>attempt</th><th>time</th><th>step</th><th>duration</th><th>error</th><th>next retry</th></tr></thead>
<tbody>
${group.steps.map((step) => stepRow(step))}
</tbody>
</table>
${replayForm(context, `${context.base}/events/${encodeURIComponent(event.id)}/replay`, group.group, 'Replay to this group')}
<a href="${context.base}/groups/${encodeURIComponent(group.group)}/dead-letters">Dead letters of ${group.group}</a>
</section>`,
)}`,
  )
}

function stepRow(step: AttemptRecord): Html {
  return html`<tr>
  <td>${step.attempt}</td>
  <td>${step.receivedAt ? html`${step.receivedAt} → ` : ''}${step.at}</td>
  <td>${step.kind}${step.reason ? html`: ${step.reason}` : ''}</td>
  <td>${step.durationMs === undefined ? '' : `${Math.round(step.durationMs * 10) / 10} ms`}</td>
  <td>${step.errorName ? html`<strong>${step.errorName}</strong>: ${step.errorMessage}` : ''}</td>
  <td>${step.kind === 'retry-scheduled' && step.delayMs !== undefined ? `in ${step.delayMs} ms` : ''}</td>
</tr>`
}

function replayForm(context: PageContext, action: string, group: string, label: string): Html | string {
  if (!context.canChange) return ''
  return html`<form class="inline" method="post" action="${action}">
  <input type="hidden" name="group" value="${group}">
  <button type="submit">${label}</button>
</form>`
}

export function deadLettersPage(
  context: PageContext,
  group: string,
  letters: readonly DeadLetter[],
  total: number,
): Html {
  const base = `${context.base}/groups/${encodeURIComponent(group)}/dead-letters`
  return layout(
    context,
    html`<h1>Dead letters of ${group}</h1>
<p>${total} in the queue${total > letters.length ? html`, the oldest ${letters.length} shown` : ''}.</p>
<table id="dead-letters">
<thead><tr><th>id</th><th>type</th><th>reason</th><th>attempts</th><th>last error</th><th>when</th><th></th></tr></thead>
<tbody>
${letters.length === 0 ? html`<tr><td colspan="7">None.</td></tr>` : ''}
${letters.map((letter) => {
  const last = letter.history[letter.history.length - 1]
  return html`<tr>
  <td><a href="${context.base}/events/${encodeURIComponent(letter.id)}">${letter.id}</a></td>
  <td>${letter.event?.type ?? '(undecodable)'}</td>
  <td>${letter.reason}</td>
  <td>${letter.history.length}</td>
  <td>${last ? html`${last.error.name}: ${last.error.message}` : ''}</td>
  <td>${letter.deadLetteredAt}</td>
  <td>${
    context.canChange
      ? html`<form class="inline" method="post" action="${base}/replay"><input type="hidden" name="id" value="${letter.id}"><button type="submit">Replay</button></form>`
      : ''
  }</td>
</tr>`
})}
</tbody>
</table>
${
  context.canChange && total > 0
    ? html`<form method="post" action="${base}/replay"><input type="hidden" name="all" value="1"><button type="submit">Replay all</button></form>
<form method="post" action="${base}/purge">
  <label>Type the group name to purge every dead letter: <input name="confirm" autocomplete="off"></label>
  <button type="submit">Purge</button>
</form>`
    : ''
}`,
  )
}

export function loginPage(context: PageContext): Html {
  return layout(
    context,
    html`<h1>Sign in</h1>
<form method="post" action="${context.base}/login">
  <label>Access token <input type="password" name="token" autocomplete="current-password"></label>
  <button type="submit">Sign in</button>
</form>`,
  )
}

export function messagePage(context: PageContext, heading: string, text: string): Html {
  return layout(
    context,
    html`<h1>${heading}</h1><p>${text}</p><p><a href="${context.base}/">Back to events</a></p>`,
  )
}

export type { Event }
