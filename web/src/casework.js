// The closed loop's shared bits: the {zh, en} labels the server sends, the feedback forms' choices
// (GET /tasks/forms, fetched once), and the header's live counts (my open tasks, unread notifications)
// that the menu badge and the bell show.
import { reactive } from 'vue'
import { api } from './api'
import { i18n } from './i18n'
import { can } from './session'

/** A server label {zh, en} in the reader's language; falls back to the raw value. */
export function pick(label, fallback = '') {
  if (!label) return fallback || '—'
  return (i18n.global.locale.value === 'en' ? label.en : label.zh) || label.zh || label.en || fallback
}

export const OPEN_STATUSES = ['new', 'assigned', 'pushed', 'accepted', 'verifying', 'feedback_given',
  'returned', 'escalated']
export const TASK_TYPES = ['field_check', 'department_push']
// outcomes of a field check that the server refuses without notes (casework.feedback)
export const NOTES_REQUIRED = ['no_need', 'wrong_data', 'not_found']

let formsPromise = null
/** GET /tasks/forms once per page load: labels, outcomes per task type, assistance kinds, upload limits. */
export function taskForms() {
  if (!formsPromise) formsPromise = api.get('/tasks/forms').catch((e) => { formsPromise = null; throw e })
  return formsPromise
}

export const live = reactive({ mineOpen: null, unread: 0, notifications: [] })

/** Refresh the badge counts; a failure leaves the old numbers (the header must not break a page). */
export async function refreshLive() {
  const jobs = [api.get('/notifications', { page_size: 10 }, { quiet401: true }).then((r) => {
    live.unread = r.unread
    live.notifications = r.items
  })]
  if (can('tasks.read')) {
    jobs.push(api.get('/tasks/counts', undefined, { quiet401: true }).then((r) => { live.mineOpen = r.mine_open }))
  }
  await Promise.allSettled(jobs)
}

/** Local date and time of an ISO timestamp, minutes precision. */
export function when(iso) {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}
