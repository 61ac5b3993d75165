/** How you appear to others: shown next to your cursor, your pointer and in the presence list. */
export interface Identity {
  name: string
  color: string
  colorLight: string
}

const storageKey = 'plait:identity'

const palette = [
  '#e5484d',
  '#f76b15',
  '#d6a000',
  '#30a46c',
  '#12a594',
  '#0090ff',
  '#3e63dd',
  '#8e4ec6',
  '#d6409f',
  '#7d6b5d',
]
const adjectives = [
  'Amber',
  'Brave',
  'Calm',
  'Swift',
  'Quiet',
  'Lucky',
  'Bright',
  'Merry',
  'Clever',
  'Gentle',
]
const animals = ['Otter', 'Heron', 'Lynx', 'Panda', 'Fox', 'Falcon', 'Badger', 'Koala', 'Marten', 'Wren']

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T
}

function withColor(name: string, color: string): Identity {
  return { name, color, colorLight: `${color}33` }
}

export function loadIdentity(): Identity {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as Partial<Identity> | null
    if (saved && typeof saved.name === 'string' && typeof saved.color === 'string') {
      return withColor(saved.name, saved.color)
    }
  } catch {
    // unreadable storage: start with a fresh identity
  }
  const identity = withColor(`${pick(adjectives)} ${pick(animals)}`, pick(palette))
  saveIdentity(identity)
  return identity
}

export function renameIdentity(identity: Identity, name: string): Identity {
  const trimmed = name.trim().slice(0, 40)
  const renamed = withColor(trimmed.length > 0 ? trimmed : identity.name, identity.color)
  saveIdentity(renamed)
  return renamed
}

function saveIdentity(identity: Identity): void {
  try {
    localStorage.setItem(storageKey, JSON.stringify({ name: identity.name, color: identity.color }))
  } catch {
    // storage full or disabled: the name still works for this visit
  }
}

export function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter((word) => word.length > 0)
    .map((word) => word[0]?.toUpperCase() ?? '')
  return letters.slice(0, 2).join('') || '?'
}
