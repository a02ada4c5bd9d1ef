// Warning levels (ascending severity), their colours, needs and sides: mirrors
// src/safetynet/monitoring/catalogue.py (LEVELS, NEEDS, SIDES).
export const LEVELS = ['blue', 'yellow', 'orange', 'red']
export const LEVEL_COLOURS = { blue: '#1e6fd9', yellow: '#e6b800', orange: '#f07c00', red: '#d32f2f' }
export const NEEDS = ['medical', 'education', 'employment', 'housing', 'disaster', 'basic_living', 'integrity']
export const SIDES = ['entry', 'exit']
// statuses known today; the list page adds any other the counts report (casework adds more)
export const STATUSES = ['new', 'closed']
// A warning's place by name (the API's region_name, county down to village, and its grid's name):
// 市中区 · 光明街道 · 西村 · 西村第1网格. Codes are never shown; '' when the API has no names.
export function placeText(w) {
  return [w.region_name, w.grid_name].filter(Boolean).join(' · ')
}
