// Each page names the capability it needs; the menu is built from the same list.
export const MENU = [
  { name: 'dashboard', path: '/dashboard', cap: 'dashboard.read', icon: 'DataAnalysis', label: 'menu.dashboard' },
  { name: 'households', path: '/households', cap: 'registry.read', icon: 'House', label: 'menu.households' },
  { name: 'warnings', path: '/warnings', cap: 'warnings.read', icon: 'Bell', label: 'menu.warnings' },
  { name: 'tasks', path: '/tasks', cap: 'tasks.read', icon: 'Tickets', label: 'menu.tasks', badge: 'mineOpen' },
  { name: 'assistance', path: '/assistance', cap: 'assistance.record', icon: 'Present', label: 'menu.assistance' },
  { name: 'routing', path: '/routing', cap: 'tasks.read', icon: 'Share', label: 'menu.routing' },
  { name: 'feeds', path: '/feeds/loads', cap: 'feeds.read', icon: 'Upload', label: 'menu.feeds' },
  { name: 'standards', path: '/standards', cap: 'standards.read', icon: 'Coin', label: 'menu.standards' },
  { name: 'calendar', path: '/calendar', cap: 'dashboard.read', icon: 'Calendar', label: 'menu.calendar' },
  { name: 'audit', path: '/audit', cap: 'audit.read', icon: 'Document', label: 'menu.audit' },
  { name: 'users', path: '/users', cap: 'users.admin', icon: 'User', label: 'menu.users' },
]
