import type { Awareness } from 'y-protocols/awareness'
import type { Identity } from '../shared/identity.js'
import type { Point } from './board-model.js'

interface PointerState {
  user?: Identity
  pointer?: Point | null
}

/** Everyone else's mouse or finger on the board: an arrow in their colour with their name. */
export function mountPointersLayer(layer: HTMLElement, awareness: Awareness): void {
  const views = new Map<number, HTMLElement>()

  const create = (): HTMLElement => {
    const element = document.createElement('div')
    element.className = 'remote-pointer'
    element.innerHTML =
      '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M3 2l14 7-6 1.6L8 17z"/></svg><span class="remote-pointer-name"></span>'
    layer.append(element)
    return element
  }

  const render = () => {
    const seen = new Set<number>()
    for (const [clientID, raw] of awareness.getStates()) {
      const state = raw as PointerState
      if (clientID === awareness.clientID || !state.user || !state.pointer) continue
      seen.add(clientID)
      const element = views.get(clientID) ?? create()
      views.set(clientID, element)
      element.style.setProperty('--pointer-color', state.user.color)
      element.style.transform = `translate(${state.pointer.x}px, ${state.pointer.y}px)`
      const name = element.querySelector('.remote-pointer-name')
      if (name && name.textContent !== state.user.name) name.textContent = state.user.name
    }
    for (const [clientID, element] of views) {
      if (seen.has(clientID)) continue
      element.remove()
      views.delete(clientID)
    }
  }
  awareness.on('change', render)
  render()
}

/** Publishes this user's pointer position, at most once per animation frame. */
export function trackOwnPointer(board: HTMLElement, awareness: Awareness): void {
  let pending: Point | null = null
  let frame = 0
  const publish = () => {
    frame = 0
    awareness.setLocalStateField('pointer', pending)
  }
  board.addEventListener('pointermove', (event) => {
    const rect = board.getBoundingClientRect()
    pending = { x: Math.round(event.clientX - rect.left), y: Math.round(event.clientY - rect.top) }
    if (frame === 0) frame = requestAnimationFrame(publish)
  })
  board.addEventListener('pointerleave', () => {
    pending = null
    if (frame === 0) frame = requestAnimationFrame(publish)
  })
}
