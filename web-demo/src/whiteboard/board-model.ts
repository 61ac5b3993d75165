import * as Y from 'yjs'

export interface Point {
  x: number
  y: number
}

export interface Stroke {
  color: string
  width: number
  /** Flat list x0, y0, x1, y1, … in board pixels. */
  points: number[]
}

export interface Note {
  id: string
  x: number
  y: number
  text: string
  color: string
}

/** A stroke being drawn: points are appended live, so others watch it appear. */
export interface StrokeInProgress {
  add(point: Point): void
  end(): void
}

/**
 * The shared whiteboard: strokes (a Y.Array of Y.Maps whose points are a Y.Array of numbers) and sticky notes
 * (a Y.Map of Y.Maps keyed by id). Every local change is made with one origin, so undo only takes back yours.
 */
export class BoardModel {
  readonly strokes: Y.Array<Y.Map<unknown>>
  readonly notes: Y.Map<Y.Map<unknown>>
  readonly undoManager: Y.UndoManager
  private readonly origin = { name: 'local whiteboard edit' }

  constructor(private readonly doc: Y.Doc) {
    this.strokes = doc.getArray('strokes')
    this.notes = doc.getMap('notes')
    // one undo step per gesture: each gesture calls stopCapturing() when it starts
    this.undoManager = new Y.UndoManager([this.strokes, this.notes], {
      trackedOrigins: new Set([this.origin]),
      captureTimeout: 60 * 60 * 1000,
    })
  }

  private change(apply: () => void): void {
    this.doc.transact(apply, this.origin)
  }

  beginStroke(color: string, width: number, start: Point): StrokeInProgress {
    this.undoManager.stopCapturing()
    const points = new Y.Array<number>()
    const stroke = new Y.Map<unknown>()
    this.change(() => {
      stroke.set('color', color)
      stroke.set('width', width)
      points.push([round(start.x), round(start.y)])
      stroke.set('points', points)
      this.strokes.push([stroke])
    })
    let buffered: number[] = []
    let frame = 0
    const flush = () => {
      frame = 0
      if (buffered.length === 0) return
      const batch = buffered
      buffered = []
      this.change(() => points.push(batch))
    }
    return {
      add: (point) => {
        buffered.push(round(point.x), round(point.y))
        // one transaction per animation frame keeps traffic low while others still see the line grow
        if (frame === 0) frame = requestAnimationFrame(flush)
      },
      end: () => {
        if (frame !== 0) cancelAnimationFrame(frame)
        flush()
        this.undoManager.stopCapturing()
      },
    }
  }

  readStrokes(): Stroke[] {
    return this.strokes.map((stroke) => {
      const points = stroke.get('points')
      return {
        color: String(stroke.get('color') ?? '#1c2024'),
        width: Number(stroke.get('width') ?? 3),
        points: points instanceof Y.Array ? (points.toArray() as number[]) : [],
      }
    })
  }

  addNote(at: Point, color: string): string {
    this.undoManager.stopCapturing()
    const id = crypto.randomUUID()
    const note = new Y.Map<unknown>()
    this.change(() => {
      note.set('x', round(at.x))
      note.set('y', round(at.y))
      note.set('text', '')
      note.set('color', color)
      this.notes.set(id, note)
    })
    this.undoManager.stopCapturing()
    return id
  }

  readNotes(): Note[] {
    const notes: Note[] = []
    this.notes.forEach((note, id) => {
      notes.push({
        id,
        x: Number(note.get('x') ?? 0),
        y: Number(note.get('y') ?? 0),
        text: String(note.get('text') ?? ''),
        color: String(note.get('color') ?? '#ffe58f'),
      })
    })
    return notes
  }

  /** Starts a new undo step for a gesture on a note (a drag, or a round of typing). */
  beginNoteGesture(): void {
    this.undoManager.stopCapturing()
  }

  moveNote(id: string, to: Point): void {
    const note = this.notes.get(id)
    if (note === undefined) return
    this.change(() => {
      note.set('x', round(to.x))
      note.set('y', round(to.y))
    })
  }

  setNoteText(id: string, text: string): void {
    const note = this.notes.get(id)
    if (note === undefined) return
    this.change(() => note.set('text', text))
  }

  deleteNote(id: string): void {
    this.undoManager.stopCapturing()
    this.change(() => this.notes.delete(id))
    this.undoManager.stopCapturing()
  }

  isEmpty(): boolean {
    return this.strokes.length === 0 && this.notes.size === 0
  }

  /** Removes every stroke and note, everyone's, as one step that undo brings back. */
  clear(): void {
    this.undoManager.stopCapturing()
    this.change(() => {
      this.strokes.delete(0, this.strokes.length)
      for (const id of [...this.notes.keys()]) this.notes.delete(id)
    })
    this.undoManager.stopCapturing()
  }

  observe(listener: () => void): void {
    this.strokes.observeDeep(listener)
    this.notes.observeDeep(listener)
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}
