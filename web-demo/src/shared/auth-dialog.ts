const tokenKey = 'plait:token'

export function loadSavedToken(): string | null {
  try {
    return localStorage.getItem(tokenKey)
  } catch {
    return null
  }
}

export function saveToken(token: string): void {
  try {
    localStorage.setItem(tokenKey, token)
  } catch {
    // the token still works for this visit
  }
}

/**
 * Shows the token dialog with a message (why a token is needed, or why the last one was refused) and resolves
 * with the token the user enters. The dialog cannot be dismissed without one: the server will not talk without.
 */
export function askForToken(title: string, message: string): Promise<string> {
  const dialog = document.querySelector<HTMLDialogElement>('#auth-dialog')
  const form = dialog?.querySelector('form')
  const input = dialog?.querySelector<HTMLInputElement>('input[name="token"]')
  if (!dialog || !form || !input) return Promise.reject(new Error('auth dialog missing from the page'))
  const titleElement = dialog.querySelector('.dialog-title')
  const messageElement = dialog.querySelector('.dialog-message')
  if (titleElement) titleElement.textContent = title
  if (messageElement) messageElement.textContent = message
  input.value = ''
  return new Promise((resolve) => {
    const submit = (event: SubmitEvent) => {
      event.preventDefault()
      const token = input.value.trim()
      if (token.length === 0) {
        input.focus()
        return
      }
      form.removeEventListener('submit', submit)
      dialog.removeEventListener('cancel', preventClose)
      dialog.close()
      resolve(token)
    }
    const preventClose = (event: Event) => event.preventDefault()
    form.addEventListener('submit', submit)
    dialog.addEventListener('cancel', preventClose)
    if (!dialog.open) dialog.showModal()
    input.focus()
  })
}
