// Display helpers for a task item (GET /tasks, /tasks/{id}) shared by the inbox, the task page and the
// warning's task list.
import { i18n } from './i18n'

const { t, te } = i18n.global

export const typeLabel = (v) => (te(`taskType.${v}`) ? t(`taskType.${v}`) : v || '—')
export const needLabel = (v) => (v && te(`need.${v}`) ? t(`need.${v}`) : v || '—')
export const departmentLabel = (v) => (v && te(`department.${v}`) ? t(`department.${v}`) : v || '—')

/** "Grid worker · 370402001001001 · medical insurance", or the assignee once someone accepted it. */
export function queueLabel(task) {
  if (task.assignee) return task.assignee
  const role = te(`queueRole.${task.queue_role}`) ? t(`queueRole.${task.queue_role}`) : task.queue_role
  const place = task.queue_region_name || task.queue_region
  return [role, place, task.department && departmentLabel(task.department)].filter(Boolean).join(' · ')
}
