// `sigops doctor`: read-only checks of everything a tenant needs outside the config repository
// (the app's permission and Exchange role, accepted domains, the smart host's DNS and TLS, the
// relay's client certificate), reported as findings that each say what to fix.
export { runDoctor, type DoctorOptions } from './doctor.ts';
export { renderDoctorReport, summaryLine, type DoctorFormat } from './render.ts';
export { DoctorOptionError } from './errors.ts';
export { parseConnectTo, checkSmartHost, probeProblems, type ConnectTo, type HostResolver, type SmartHostCheckOptions, type SmartHostOutcome } from './smart-host.ts';
export { probeSmtp, type ProbeTarget, type SmtpProbeOptions, type SmtpProbeResult, type ProbeFailure, type ProbeTls } from './smtp-probe.ts';
export { checkClientCertificate, type ClientCertificateCheckOptions } from './client-certificate.ts';
export { checkExchangeAccess, tokenClaims, EXCHANGE_APP_PERMISSIONS, READ_CMDLETS, type ExchangeAccessOutcome } from './exchange-access.ts';
export { EXPIRY_WARNING_DAYS } from './certificates.ts';
export {
  CHECK_ORDER,
  FEATURE_CHECKS,
  allFindings,
  findingCounts,
  type CheckId,
  type CheckResult,
  type DoctorReport,
  type Finding,
  type Outcome,
  type Problem,
  type Severity,
  type TenantReport,
} from './types.ts';
