// RBAC for Applications, read-only: what Exchange Online lets an app do in which mailboxes. An
// application permission granted in Entra (Mail.ReadWrite) reaches every mailbox; the same
// permission given as an Exchange role assignment ("Application Mail.ReadWrite") to the app's
// service principal, over a management scope, reaches only the mailboxes in that scope.
// `sigops doctor` reads here whether the Sent Items update runs so limited.
//
// Cmdlets (Microsoft's reference, learn.microsoft.com/powershell/module/exchangepowershell/…):
//   Get-ServicePrincipal         AppId, ObjectId, ServiceId, DisplayName, Identity
//   Get-ManagementScope          -Identity; Name, RecipientFilter, ScopeRestrictionType
//   Get-ManagementRoleAssignment -Role; Name, Role, RoleAssignee(Name), RoleAssigneeType,
//                                CustomResourceScope, Enabled
// and "Role Based Access Control for Applications in Exchange Online"
// (learn.microsoft.com/exchange/permissions-exo/application-rbac). That the three run through
// the admin API's InvokeCommand (the REST endpoint of the ExchangeOnlineManagement module) is
// what the module does for every cmdlet since version 3; it is to be checked on a real tenant.
import type { ExchangeClient, ExchangeRecord } from './client.ts';
import { ObjectNotFoundError } from './errors.ts';

/** The Exchange role that carries Graph's Mail.ReadWrite for an app. */
export const APPLICATION_MAIL_READWRITE = 'Application Mail.ReadWrite';

export interface ServicePrincipalRef {
  readonly appId: string;
  readonly objectId?: string;
  readonly serviceId?: string;
  readonly displayName?: string;
  readonly identity?: string;
}

export interface ManagementScope {
  readonly name: string;
  /** The recipient filter (RecipientRestrictionFilter as given to New-ManagementScope). */
  readonly filter?: string;
  readonly type?: string;
}

export interface ApplicationRoleAssignment {
  readonly name: string;
  readonly role: string;
  readonly customResourceScope?: string;
  readonly enabled: boolean;
}

/** What Exchange says about one app's access to mailboxes through one role. */
export interface ApplicationScopeReport {
  /** The app's service principal in Exchange (New-ServicePrincipal); undefined when there is none. */
  readonly servicePrincipal?: ServicePrincipalRef;
  /** Its assignments of the role. */
  readonly assignments: readonly ApplicationRoleAssignment[];
  /** The named management scope; undefined when it does not exist. */
  readonly scope?: ManagementScope;
}

const text = (r: ExchangeRecord, k: string): string | undefined => (typeof r[k] === 'string' && r[k] !== '' ? (r[k] as string) : undefined);

/** Reads the app's service principal, its assignments of `role`, and the management scope `scopeName`. */
export async function readApplicationScope(client: ExchangeClient, appId: string, scopeName: string | undefined, role = APPLICATION_MAIL_READWRITE): Promise<ApplicationScopeReport> {
  const principals = await client.invoke('Get-ServicePrincipal', {});
  const sp = principals.find((r) => text(r, 'AppId')?.toLowerCase() === appId.toLowerCase());
  const servicePrincipal: ServicePrincipalRef | undefined = sp
    ? {
        appId,
        ...(text(sp, 'ObjectId') ? { objectId: text(sp, 'ObjectId')! } : {}),
        ...(text(sp, 'ServiceId') ? { serviceId: text(sp, 'ServiceId')! } : {}),
        ...(text(sp, 'DisplayName') ? { displayName: text(sp, 'DisplayName')! } : {}),
        ...(text(sp, 'Identity') ? { identity: text(sp, 'Identity')! } : {}),
      }
    : undefined;
  let assignments: ApplicationRoleAssignment[] = [];
  if (servicePrincipal) {
    // the assignee is named by one of the principal's identities (which one is not documented)
    const names = new Set([servicePrincipal.appId, servicePrincipal.objectId, servicePrincipal.serviceId, servicePrincipal.displayName, servicePrincipal.identity].filter((v): v is string => !!v).map((v) => v.toLowerCase()));
    assignments = (await client.invoke('Get-ManagementRoleAssignment', { Role: role }))
      .filter((r) => [text(r, 'RoleAssignee'), text(r, 'RoleAssigneeName')].some((v) => v !== undefined && names.has(v.toLowerCase())))
      .map((r) => ({
        name: text(r, 'Name') ?? '',
        role: text(r, 'Role') ?? role,
        ...(text(r, 'CustomResourceScope') ? { customResourceScope: text(r, 'CustomResourceScope')! } : {}),
        enabled: r.Enabled !== false,
      }));
  }
  let scope: ManagementScope | undefined;
  if (scopeName !== undefined) {
    try {
      const [s] = await client.invoke('Get-ManagementScope', { Identity: scopeName });
      if (s) scope = { name: text(s, 'Name') ?? scopeName, ...(text(s, 'RecipientFilter') ? { filter: text(s, 'RecipientFilter')! } : {}), ...(text(s, 'ScopeRestrictionType') ? { type: text(s, 'ScopeRestrictionType')! } : {}) };
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
    }
  }
  return { ...(servicePrincipal ? { servicePrincipal } : {}), assignments, ...(scope ? { scope } : {}) };
}
