// The signed-in user (GET /api/v1/auth/me) shared by the layout, the menu and the router guard.
import { reactive } from 'vue'
import { api } from './api'

export const session = reactive({ me: null, loaded: false })

export async function loadMe() {
  try {
    session.me = await api.get('/auth/me', undefined, { quiet401: true })
  } catch (e) {
    session.me = null
    if (e.status !== 401) throw e
  } finally {
    session.loaded = true
  }
  return session.me
}

/** An administrator signed in without a confirmed second factor: only the enrolment page is open
 * to them (the server answers 403 totp_enrolment_required to everything else). */
export function mustEnrol() {
  return !!(session.me && session.me.totp_enrolment_required)
}

export function can(capability) {
  return !!(session.me && (session.me.capabilities || []).includes(capability))
}

export async function signOut() {
  try {
    await api.post('/auth/logout', undefined, { quiet401: true })
  } finally {
    session.me = null
  }
}
