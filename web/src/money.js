// Amounts arrive as integer fen; show yuan with two decimals without floating-point arithmetic.
export function fenToYuan(fen) {
  if (fen === null || fen === undefined || fen === '') return '—'
  const n = BigInt(fen)
  const neg = n < 0n
  const abs = neg ? -n : n
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`
}
