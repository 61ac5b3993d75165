let hideTimer: ReturnType<typeof setTimeout> | undefined

/** A short message at the bottom of the screen, optionally with one action (e.g. Undo). */
export function showToast(message: string, action?: { label: string; run: () => void }): void {
  let toast = document.querySelector<HTMLElement>('.toast')
  if (toast === null) {
    toast = document.createElement('div')
    toast.className = 'toast'
    toast.setAttribute('role', 'status')
    document.body.append(toast)
  }
  const text = document.createElement('span')
  text.textContent = message
  toast.replaceChildren(text)
  if (action) {
    const button = document.createElement('button')
    button.type = 'button'
    button.textContent = action.label
    button.addEventListener('click', () => {
      action.run()
      toast?.classList.remove('visible')
    })
    toast.append(button)
  }
  toast.classList.add('visible')
  clearTimeout(hideTimer)
  hideTimer = setTimeout(() => toast?.classList.remove('visible'), 4000)
}
