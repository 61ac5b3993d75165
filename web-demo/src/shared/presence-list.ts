import type { Awareness } from 'y-protocols/awareness'
import { type Identity, initials } from './identity.js'

interface Person {
  clientID: number
  user: Identity
  isSelf: boolean
}

function peopleIn(awareness: Awareness): Person[] {
  const people: Person[] = []
  for (const [clientID, state] of awareness.getStates()) {
    const user = (state as { user?: Identity }).user
    if (user === undefined || typeof user.name !== 'string') continue
    people.push({ clientID, user, isSelf: clientID === awareness.clientID })
  }
  // you first, then everyone else by name
  return people.sort((a, b) => Number(b.isSelf) - Number(a.isSelf) || a.user.name.localeCompare(b.user.name))
}

/** Who is in the room: one avatar and name per person, kept current from awareness. */
export function mountPresenceList(list: HTMLElement, awareness: Awareness): void {
  let shown = ''
  const render = () => {
    const people = peopleIn(awareness)
    // awareness changes with every cursor move; redraw only when who is here (or their name) changes
    const key = JSON.stringify(people.map((person) => [person.clientID, person.user.name, person.user.color]))
    if (key === shown) return
    shown = key
    const items = people.map((person) => {
      const item = document.createElement('li')
      item.className = 'person'
      item.dataset.self = String(person.isSelf)
      item.title = person.isSelf ? `${person.user.name} (you)` : person.user.name
      const avatar = document.createElement('span')
      avatar.className = 'avatar'
      avatar.style.backgroundColor = person.user.color
      avatar.textContent = initials(person.user.name)
      const name = document.createElement('span')
      name.className = 'person-name'
      name.textContent = person.isSelf ? `${person.user.name} (you)` : person.user.name
      item.append(avatar, name)
      return item
    })
    list.replaceChildren(...items)
    list.dataset.count = String(people.length)
    list.setAttribute('aria-label', `${people.length} ${people.length === 1 ? 'person' : 'people'} here`)
  }
  awareness.on('change', render)
  render()
}
