import { createRouter, createWebHistory } from 'vue-router'
import { setUnauthorisedHandler } from './api'
import { can, loadMe, mustEnrol, session } from './session'
import AdminLayout from './layouts/AdminLayout.vue'
import { MENU } from './menu'

export { MENU }


const pages = {
  dashboard: () => import('./views/DashboardView.vue'),
  households: () => import('./views/HouseholdSearch.vue'),
  warnings: () => import('./views/WarningsList.vue'),
  tasks: () => import('./views/TaskInbox.vue'),
  routing: () => import('./views/RoutingView.vue'),
  calendar: () => import('./views/WorkCalendar.vue'),
  assistance: () => import('./views/AssistanceRecord.vue'),
  feeds: () => import('./views/FeedLoads.vue'),
  standards: () => import('./views/StandardsView.vue'),
  audit: () => import('./views/AuditLog.vue'),
  users: () => import('./views/UsersAdmin.vue'),
}

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
  // an administrator's second factor, before anything else (outside the layout: nothing else loads)
  { path: '/account/totp', name: 'totp-enrol', component: () => import('./views/TotpEnrol.vue') },
  {
    path: '/',
    component: AdminLayout,
    children: [
      { path: '', name: 'home', component: { render: () => null } },
      ...MENU.map((m) => ({ path: m.path.slice(1), name: m.name, component: pages[m.name], meta: { cap: m.cap } })),
      {
        path: 'households/:householdNo',
        name: 'household',
        component: () => import('./views/HouseholdDetail.vue'),
        meta: { cap: 'registry.read' },
        props: true,
      },
      {
        path: 'warnings/:warningId',
        name: 'warning',
        component: () => import('./views/WarningDetail.vue'),
        meta: { cap: 'warnings.read' },
        props: true,
      },
      {
        path: 'tasks/:taskId',
        name: 'task',
        component: () => import('./views/TaskDetail.vue'),
        meta: { cap: 'tasks.read' },
        props: true,
      },
      {
        path: 'persons/:personId',
        name: 'person',
        component: () => import('./views/PersonDetail.vue'),
        meta: { cap: 'registry.read' },
        props: true,
      },
      // one's own account: every signed-in user, whatever the role
      { path: 'account/password', name: 'change-password', component: () => import('./views/ChangePassword.vue') },
      { path: 'forbidden', name: 'forbidden', component: () => import('./views/ForbiddenView.vue') },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
    ],
  },
]

// Field roles start at their work, not at the province-style dashboard (issue 16): the task inbox for
// those who work tasks, 登记帮扶 for a charity; the rest land on the first page of the menu they may open.
const LANDING = {
  grid_worker: 'tasks',
  township_caseworker: 'tasks',
  township_reviewer: 'tasks',
  department_liaison: 'tasks',
  charity: 'assistance',
}

export function firstAllowed() {
  const landing = MENU.find((x) => x.name === LANDING[session.me && session.me.role])
  const m = landing && can(landing.cap) ? landing : MENU.find((x) => can(x.cap))
  return m ? m.path : '/forbidden'
}

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (!session.loaded) await loadMe().catch(() => null)
  if (to.meta.public) return true
  if (!session.me) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  if (mustEnrol()) {
    if (to.name === 'totp-enrol') return true
    return { name: 'totp-enrol', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.name === 'totp-enrol') return firstAllowed()  // enrolled already
  if (to.name === 'home') return firstAllowed()
  if (to.meta.cap && !can(to.meta.cap)) return { name: 'forbidden' }
  return true
})

setUnauthorisedHandler(() => {
  session.me = null
  const current = router.currentRoute.value
  if (!current.meta.public) router.push({ name: 'login', query: { redirect: current.fullPath } })
})
