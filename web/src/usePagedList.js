// Paginated list against the shared contract: ?page=&page_size= → {items, total, page, page_size}.
import { ref } from 'vue'
import { api } from './api'
import { serverMessage } from './i18n'

export function usePagedList(path, filters) {
  const items = ref([])
  const total = ref(0)
  const page = ref(1)
  const pageSize = ref(20)
  const loading = ref(false)
  const error = ref('')
  const raw = ref(null)

  let latest = 0 // answers can arrive out of order: only the newest request's answer is shown

  async function fetch() {
    const mine = ++latest
    loading.value = true
    error.value = ''
    try {
      const params = { ...Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, v ?? ''])),
        page: page.value, page_size: pageSize.value }
      const res = await api.get(path, params)
      if (mine !== latest) return
      raw.value = res
      items.value = Array.isArray(res) ? res : res.items || []
      total.value = Array.isArray(res) ? res.length : res.total ?? items.value.length
    } catch (e) {
      if (mine !== latest) return
      items.value = []
      total.value = 0
      error.value = serverMessage(e)
    } finally {
      if (mine === latest) loading.value = false
    }
  }
  function search() {
    page.value = 1
    return fetch()
  }
  return { items, total, page, pageSize, loading, error, fetch, search, raw }
}
