// Who may do what in the dashboard: the ONE table of role x action. The dashboard's route table
// (dashboard/route-access.ts) names an action for every route, and docs/dashboard.md prints this table
// (a test asserts the two agree).

export const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Roles that see every project; the others see only the projects they are members of. */
export const WORKSPACE_WIDE: readonly Role[] = ['owner', 'admin'];

export const ACTIONS = {
  /** Own session: sign out. */
  self: 'sign out',
  /** Read a project's pages: logs, images, metrics, webhooks, jobs, schedules, crawls, templates. */
  view: "read a project's logs, images, metrics, webhooks, schedules, crawls, templates",
  /** Change a project's things: its keys, webhooks, schedules, templates, replays, crawls, playground. */
  operate:
    "rotate a project's keys; change its webhooks, schedules, templates; replay; cancel crawls; playground",
  /** Workspace: create projects, change their plans. */
  projects: 'create projects, change plans',
  /** Workspace: the team page, invitations, roles, removal, reset links. */
  team: 'team page: invite, revoke invitations, change roles and projects, remove, reset links',
  /** Make or unmake an owner (grant the owner role, change or remove an owner). */
  ownership: 'grant or take the owner role, remove an owner',
} as const;
export type Action = keyof typeof ACTIONS;

/** Actions that touch one project: a developer or viewer needs to be a member of it. */
export const PROJECT_ACTIONS: readonly Action[] = ['view', 'operate'];

export const PERMISSIONS: Record<Role, readonly Action[]> = {
  owner: ['self', 'view', 'operate', 'projects', 'team', 'ownership'],
  admin: ['self', 'view', 'operate', 'projects', 'team'],
  developer: ['self', 'view', 'operate'],
  viewer: ['self', 'view'],
};

export function may(role: Role, action: Action): boolean {
  return PERMISSIONS[role].includes(action);
}

/** The table as docs/dashboard.md prints it (Markdown, one row per action). */
export function permissionsMarkdown(): string {
  const lines = [
    `| action | ${ROLES.join(' | ')} |`,
    `| --- | ${ROLES.map(() => '---').join(' | ')} |`,
    ...(Object.keys(ACTIONS) as Action[]).map(
      (action) =>
        `| \`${action}\`: ${ACTIONS[action]} | ${ROLES.map((role) =>
          may(role, action)
            ? PROJECT_ACTIONS.includes(action) && !WORKSPACE_WIDE.includes(role)
              ? 'member projects'
              : 'yes'
            : 'no',
        ).join(' | ')} |`,
    ),
  ];
  return lines.join('\n');
}
