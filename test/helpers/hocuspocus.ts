// Hocuspocus clients for tests: the real @hocuspocus/provider in Node (ws as its WebSocket), and a raw
// socket that speaks the Hocuspocus framing frame by frame.
import {
  HocuspocusProvider,
  type HocuspocusProviderConfiguration,
  HocuspocusProviderWebsocket,
} from '@hocuspocus/provider'
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  decodeHocuspocusServerFrame,
  type HocuspocusServerMessage,
} from '../../server/protocol/hocuspocus.js'

export interface HpClient {
  doc: Y.Doc
  text: Y.Text
  provider: HocuspocusProvider
  /** authenticationFailed reasons and the scope it was told, as the provider reported them. */
  denied: string[]
  scope: () => string | undefined
  stateless: string[]
  destroy(): void
}

/** A HocuspocusProvider as a Tiptap app creates one: its own socket (`url`), or a shared one. */
export function hocuspocusProvider(
  target: { url: string } | { websocket: HocuspocusProviderWebsocket },
  name: string,
  options: { token?: string | null; doc?: Y.Doc; sessionAwareness?: boolean } = {},
): HpClient {
  const doc = options.doc ?? new Y.Doc()
  const denied: string[] = []
  const stateless: string[] = []
  const common = {
    name,
    document: doc,
    token: options.token ?? null,
    sessionAwareness: options.sessionAwareness ?? false,
    onAuthenticationFailed: ({ reason }: { reason: string }) => denied.push(reason),
    onStateless: ({ payload }: { payload: string }) => stateless.push(payload),
  }
  // The provider hands its own socket every option it got; its type leaves WebSocketPolyfill out.
  const config =
    'url' in target
      ? ({ ...common, url: target.url, WebSocketPolyfill: WebSocket } as HocuspocusProviderConfiguration)
      : { ...common, websocketProvider: target.websocket }
  const provider = new HocuspocusProvider(config)
  // With a shared socket the provider must be attached (a provider that makes its own socket attaches itself).
  if (!('url' in target)) provider.attach()
  return {
    doc,
    text: doc.getText('t'),
    provider,
    denied,
    scope: () => provider.authorizedScope,
    stateless,
    destroy: () => {
      provider.destroy()
      doc.destroy()
    },
  }
}

export function sharedSocket(url: string): HocuspocusProviderWebsocket {
  return new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket })
}

/** A raw socket at the base URL: every frame it gets, decoded with its document name. */
export class RawHocuspocusClient {
  readonly received: { document: string; message: HocuspocusServerMessage }[] = []
  closeCode: number | null = null
  readonly ws: WebSocket
  readonly opened: Promise<void>

  constructor(url: string) {
    this.ws = new WebSocket(url)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
    })
    this.ws.on('error', () => {})
    this.ws.on('close', (code) => {
      this.closeCode = code
    })
    this.ws.on('message', (data: Buffer) =>
      this.received.push(decodeHocuspocusServerFrame(new Uint8Array(data))),
    )
  }

  of(document: string): HocuspocusServerMessage[] {
    return this.received.filter((r) => r.document === document).map((r) => r.message)
  }

  send(frame: Uint8Array | string): void {
    this.ws.send(frame)
  }

  close(): void {
    this.ws.terminate()
  }
}
