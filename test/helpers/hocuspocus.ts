// Hocuspocus clients for tests: the real @hocuspocus/provider in Node (ws as its WebSocket), v4 by default
// and any version through hocuspocusClients, and a raw socket that speaks the Hocuspocus framing frame by frame.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  decodeHocuspocusServerFrame,
  type HocuspocusServerMessage,
} from '../../server/protocol/hocuspocus.js'

/** What the helpers need of a provider module: v4 (`@hocuspocus/provider`) or v3 (`@hocuspocus/provider-v3`). */
export interface HocuspocusModule<P extends HpProvider, W> {
  // `never`: each version's constructor takes its own configuration type; the helper builds one that fits both.
  HocuspocusProvider: new (
    config: never,
  ) => P
  HocuspocusProviderWebsocket: new (config: never) => W
}

/** What every provider version has that the helpers use. */
interface HpProvider {
  authorizedScope?: string
  attach(): void
  destroy(): void
}

export interface HpClient<P extends HpProvider = HocuspocusProvider> {
  doc: Y.Doc
  text: Y.Text
  provider: P
  /** authenticationFailed reasons and the scope it was told, as the provider reported them. */
  denied: string[]
  scope: () => string | undefined
  stateless: string[]
  destroy(): void
}

export interface HpOptions {
  token?: string | null
  doc?: Y.Doc
  /** v4 only; v3 has no sessions and ignores it. */
  sessionAwareness?: boolean
}

/** The helpers for one provider version. */
export function hocuspocusClients<P extends HpProvider, W>(hp: HocuspocusModule<P, W>) {
  /** A HocuspocusProvider as a Tiptap app creates one: its own socket (`url`), or a shared one. */
  function provider(
    target: { url: string } | { websocket: W },
    name: string,
    options: HpOptions = {},
  ): HpClient<P> {
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
        ? { ...common, url: target.url, WebSocketPolyfill: WebSocket }
        : { ...common, websocketProvider: target.websocket }
    const p = new hp.HocuspocusProvider(config as never)
    // With a shared socket the provider must be attached (a provider that makes its own socket attaches itself).
    if (!('url' in target)) p.attach()
    return {
      doc,
      text: doc.getText('t'),
      provider: p,
      denied,
      scope: () => p.authorizedScope,
      stateless,
      destroy: () => {
        p.destroy()
        doc.destroy()
      },
    }
  }
  function sharedSocket(url: string): W {
    return new hp.HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket } as never)
  }
  return { provider, sharedSocket }
}

const v4 = hocuspocusClients({ HocuspocusProvider, HocuspocusProviderWebsocket })

/** A v4 HocuspocusProvider: its own socket (`url`), or a shared one. */
export function hocuspocusProvider(
  target: { url: string } | { websocket: HocuspocusProviderWebsocket },
  name: string,
  options: HpOptions = {},
): HpClient {
  return v4.provider(target, name, options)
}

export function sharedSocket(url: string): HocuspocusProviderWebsocket {
  return v4.sharedSocket(url)
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
