// Amounts arrive as integer fen; show yuan with two decimals without floating-point arithmetic.
export function fenToYuan(fen) {
  if (fen === null || fen === undefined || fen === '') return '—'
  const n = BigInt(fen)
  const neg = n < 0n
  const abs = neg ? -n : n
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`
}

// What a user types as yuan ("1234.56", "1,234.5", "80") → integer fen as a string, by string parsing:
// parseFloat('1234.56') * 100 is 123455.99999999999, so money never goes through a float here.
// null for an empty entry; throws RangeError for anything that is not a non-negative amount with at
// most two decimals.
export function yuanToFen(text) {
  const s = String(text ?? '').trim().replace(/[,，\s]/g, '')
  if (s === '') return null
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(s)
  if (!m) throw new RangeError(`not an amount in yuan with at most two decimals: ${text}`)
  const fen = BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0'))
  return fen.toString()
}
