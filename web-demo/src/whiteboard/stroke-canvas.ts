import type { BoardModel, Stroke } from './board-model.js'

function drawStroke(context: CanvasRenderingContext2D, stroke: Stroke): void {
  const p = stroke.points
  if (p.length < 2) return
  context.strokeStyle = stroke.color
  context.fillStyle = stroke.color
  context.lineWidth = stroke.width
  if (p.length === 2) {
    // a tap: a dot
    context.beginPath()
    context.arc(p[0] as number, p[1] as number, stroke.width / 2, 0, Math.PI * 2)
    context.fill()
    return
  }
  context.beginPath()
  context.moveTo(p[0] as number, p[1] as number)
  // smooth the line through the midpoints of consecutive samples
  for (let i = 2; i < p.length - 2; i += 2) {
    const x = p[i] as number
    const y = p[i + 1] as number
    const nx = p[i + 2] as number
    const ny = p[i + 3] as number
    context.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2)
  }
  context.lineTo(p[p.length - 2] as number, p[p.length - 1] as number)
  context.stroke()
}

/** Paints every stroke of the board onto a canvas that fills its container, sharp on high-DPI screens. */
export function mountStrokeCanvas(canvas: HTMLCanvasElement, model: BoardModel): void {
  const context = canvas.getContext('2d')
  if (context === null) throw new Error('canvas 2d context unavailable')
  let frame = 0
  const paint = () => {
    frame = 0
    const ratio = window.devicePixelRatio || 1
    const width = canvas.clientWidth
    const height = canvas.clientHeight
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio)
      canvas.height = Math.round(height * ratio)
    }
    context.setTransform(ratio, 0, 0, ratio, 0, 0)
    context.clearRect(0, 0, width, height)
    context.lineCap = 'round'
    context.lineJoin = 'round'
    for (const stroke of model.readStrokes()) drawStroke(context, stroke)
  }
  const schedule = () => {
    if (frame === 0) frame = requestAnimationFrame(paint)
  }
  model.observe(schedule)
  new ResizeObserver(schedule).observe(canvas)
  schedule()
}
