// Check: a tenant with the Sent Items update runs it with the least privilege it can. The app
// needs Mail.ReadWrite; given in Entra it reaches every mailbox, given by Exchange's RBAC for
// Applications over a management scope it reaches only the senders in that scope. Read-only:
// the app's service principal in Exchange, its "Application Mail.ReadWrite" assignments, and
// the scope the tenant file names (src/exchange/rbac.ts).
import type { Tenant } from '../model/index.ts';
import { describeError } from '../errors/index.ts';
import type { TokenProvider } from '../entra/index.ts';
import { APPLICATION_MAIL_READWRITE, ForbiddenError, readApplicationScope, type ExchangeClient } from '../exchange/index.ts';
import { tokenClaims } from './exchange-access.ts';
import type { Outcome, Problem } from './types.ts';

const SETUP = 'docs/sent-items.md, "Least privilege"';

/** The check, for a tenant with `sentItems` (the doctor lists it only for those). */
export async function checkSentItemsScope(tenant: Tenant, tokens: () => TokenProvider, client: () => ExchangeClient): Promise<Outcome> {
  const sentItems = tenant.sentItems;
  if (!sentItems) return { summary: 'the Sent Items update is off for this tenant', problems: [], skipped: true };
  if (sentItems.unscoped) {
    return {
      summary: '',
      problems: [
        {
          severity: 'warning',
          code: 'sent-items-unscoped',
          message: 'sentItems runs with unscoped: true: the app may read and change every mailbox of the tenant',
          advice: `Limit it: a management scope over the senders' group, "${APPLICATION_MAIL_READWRITE}" assigned to the app over it, the Entra grant of Mail.ReadWrite removed; then name the scope in sentItems.scope (${SETUP}).`,
        },
      ],
    };
  }
  const scopeName = sentItems.scope;
  let appId: string | undefined;
  try {
    const claims = tokenClaims(await tokens().getToken(tenant.id));
    const id = claims?.appid ?? claims?.azp;
    appId = typeof id === 'string' ? id : undefined;
  } catch {
    return { summary: 'needs a token for Exchange Online (see app-permission)', problems: [], skipped: true };
  }
  if (!appId) return { summary: 'the token names no app id (appid): the app\'s role assignments cannot be looked up', problems: [], skipped: true };
  let report;
  try {
    report = await readApplicationScope(client(), appId, scopeName);
  } catch (err) {
    const e = describeError(err);
    return {
      summary: '',
      problems: [
        {
          severity: 'error',
          code: err instanceof ForbiddenError ? 'rbac-unreadable' : (e.code ?? 'exchange-error'),
          message: `cannot read the app's role assignments (Get-ServicePrincipal, Get-ManagementRoleAssignment, Get-ManagementScope): ${e.message}`,
          advice: err instanceof ForbiddenError
            ? "The app's Exchange role must allow reading role assignments and scopes (Exchange Administrator does); or check the scope by hand (" + SETUP + ')'
            : (e.advice ?? 'Run the doctor again.'),
        },
      ],
    };
  }
  const problems: Problem[] = [];
  const sp = report.servicePrincipal;
  if (!sp) {
    problems.push({
      severity: 'error',
      code: 'service-principal-missing',
      message: `Exchange has no service principal for the app ${appId}: no role can be assigned to it`,
      advice: `New-ServicePrincipal -AppId ${appId} -ObjectId <the enterprise application's object id> -DisplayName sigops (${SETUP}).`,
    });
  }
  if (!report.scope) {
    problems.push({
      severity: 'error',
      code: 'management-scope-missing',
      message: `the management scope "${scopeName}" named in sentItems.scope does not exist`,
      advice: `New-ManagementScope -Name "${scopeName}" -RecipientRestrictionFilter "MemberOfGroup -eq '<distinguished name of the senders' group>'" (${SETUP}).`,
    });
  }
  if (sp) {
    const enabled = report.assignments.filter((a) => a.enabled);
    const scoped = enabled.filter((a) => a.customResourceScope?.toLowerCase() === scopeName.toLowerCase());
    const wide = enabled.filter((a) => a.customResourceScope === undefined);
    if (scoped.length === 0) {
      problems.push({
        severity: 'error',
        code: 'role-assignment-missing',
        message: `the app holds no "${APPLICATION_MAIL_READWRITE}" assignment over the scope "${scopeName}"${enabled.length > 0 ? ` (it has: ${enabled.map((a) => `${a.name} over ${a.customResourceScope ?? 'the whole organization'}`).join(', ')})` : ''}`,
        advice: `New-ManagementRoleAssignment -App ${sp.serviceId ?? sp.objectId ?? appId} -Role "${APPLICATION_MAIL_READWRITE}" -CustomResourceScope "${scopeName}" (${SETUP}).`,
      });
    }
    if (wide.length > 0) {
      problems.push({
        severity: 'warning',
        code: 'role-assignment-tenant-wide',
        message: `the app also holds "${APPLICATION_MAIL_READWRITE}" without a scope (${wide.map((a) => a.name).join(', ')}): it reaches every mailbox`,
        advice: `Remove-ManagementRoleAssignment ${wide[0]!.name}, keeping the one over "${scopeName}" (${SETUP}).`,
      });
    }
  }
  const filter = report.scope?.filter ? ` (${report.scope.filter})` : '';
  return {
    summary: `"${APPLICATION_MAIL_READWRITE}" is assigned to the app over the management scope "${scopeName}"${filter}. An Entra grant of Mail.ReadWrite would still reach every mailbox: keep it off the app registration`,
    problems,
  };
}
