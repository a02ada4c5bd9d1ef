// zh-CN is the default; the English switch is remembered in localStorage.
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN.js'
import en from './en.js'

export const LOCALE_KEY = 'safetynet.locale'
export const LOCALES = ['zh-CN', 'en']

function initialLocale() {
  try {
    const saved = window.localStorage.getItem(LOCALE_KEY)
    if (LOCALES.includes(saved)) return saved
  } catch {
    /* storage unavailable: fall back to Chinese */
  }
  return 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

export function setLocale(value) {
  i18n.global.locale.value = value
  document.documentElement.lang = value
  try {
    window.localStorage.setItem(LOCALE_KEY, value)
  } catch {
    /* ignore */
  }
}

/** The server sends messages in both languages; pick the one the user reads. */
export function serverMessage(err) {
  if (!err) return ''
  const zh = i18n.global.locale.value !== 'en'
  return (zh ? err.message_zh || err.message : err.message || err.message_zh) || String(err)
}
