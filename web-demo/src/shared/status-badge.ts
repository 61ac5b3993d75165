import type { SessionStatus } from './session-status.js'

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

function describe(status: SessionStatus): { label: string; detail: string; tone: string } {
  const pending = status.unsynced
  switch (status.connection) {
    case 'denied':
      return {
        label: 'Access denied',
        detail: `The server refused this connection: ${status.authError?.reason || 'no reason given'}`,
        tone: 'error',
      }
    case 'offline':
      return pending > 0
        ? {
            label: 'Offline',
            detail: `${plural(pending, 'change')} not on the server yet — kept on this device, sent when back online`,
            tone: 'warning',
          }
        : { label: 'Offline', detail: 'Reconnecting… everything you wrote is on the server', tone: 'warning' }
    case 'connecting':
      return { label: 'Connecting…', detail: 'Opening a connection to the server', tone: 'pending' }
    case 'syncing':
      return { label: 'Syncing…', detail: 'Exchanging changes with the server', tone: 'pending' }
    case 'connected':
      if (pending > 0)
        return { label: 'Saving…', detail: `${plural(pending, 'change')} on the way`, tone: 'pending' }
      return {
        label: status.scope === 'readonly' ? 'Read-only' : 'Saved',
        detail:
          status.scope === 'readonly'
            ? 'Connected — you can watch but not edit this room'
            : 'Connected — every edit is on the server',
        tone: 'ok',
      }
  }
}

/** The connection badge (a coloured dot and a one-word state) and the sentence that explains it. */
export function renderStatusBadge(badge: HTMLElement, detailLine: HTMLElement, status: SessionStatus): void {
  const { label, detail, tone } = describe(status)
  badge.dataset.connection = status.connection
  badge.dataset.unsynced = String(status.unsynced)
  badge.dataset.tone = tone
  badge.title = detail
  badge.setAttribute('aria-label', `${label}. ${detail}`)
  const labelElement = badge.querySelector('.status-label')
  if (labelElement) labelElement.textContent = label
  detailLine.textContent = detail
  detailLine.dataset.tone = tone
}
