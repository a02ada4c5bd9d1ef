// Tier ids in depth order (registry.model.Tier) and their chart colours.
export const TIERS = ['extremely_poor', 'dibao', 'dibao_edge', 'rigid_expenditure', 'anti_relapse', 'other_concern']
export const TIER_COLOURS = {
  extremely_poor: '#b71c1c', dibao: '#e6a23c', dibao_edge: '#409eff', rigid_expenditure: '#67c23a',
  anti_relapse: '#9c27b0', other_concern: '#909399',
}
export function sumTiers(byTier) {
  return TIERS.reduce((acc, k) => acc + ((byTier && byTier[k]) || 0), 0)
}
