// One fetch wrapper for /api/v1: JSON in and out, the session cookie, the shared error body
// {code, message, message_zh, field} turned into an ApiError.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.detail)) || `HTTP ${status}`)
    this.status = status
    this.code = (body && body.code) || (status === 404 ? 'not_found' : status === 403 ? 'forbidden' : 'error')
    this.message_zh = body && body.message_zh
    this.field = body && body.field
    // verification's 403 names the scopes the family's authorisation lacks
    this.missing = body && body.missing
  }
}

let onUnauthorised = () => {}
export function setUnauthorisedHandler(fn) {
  onUnauthorised = fn
}

function query(params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v)
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

export async function request(method, path, { params, body, form, quiet401 = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } }
  if (form !== undefined) {
    init.body = form // FormData: the browser writes the multipart boundary into Content-Type itself
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let res
  try {
    res = await fetch(`/api/v1${path}${query(params)}`, init)
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: String(e) })
  }
  if (res.status === 204) return null
  let data = null
  const text = await res.text()
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = { message: text }
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data)
    if (res.status === 401 && !quiet401) onUnauthorised(err)
    throw err
  }
  return data
}

export const api = {
  get: (path, params, opts) => request('GET', path, { params, ...opts }),
  post: (path, body, opts) => request('POST', path, { body, ...opts }),
  patch: (path, body, opts) => request('PATCH', path, { body, ...opts }),
  put: (path, body, opts) => request('PUT', path, { body, ...opts }),
  /** multipart/form-data (a file upload): `fields` is a FormData */
  postForm: (path, fields, opts) => request('POST', path, { form: fields, ...opts }),
}
