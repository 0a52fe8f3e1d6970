// The domain model: the config repository as the rest of sigops sees it once it has been loaded
// and validated (tenants, rules, directories, templates). Plain, immutable data, and a few pure
// functions over it (sender.ts), importing nothing outside this folder, so every concept can
// use it: the config loader builds it, the others read it.

export {
  certificateDomainOwner,
  domainAndParents,
  isWithinDomain,
  normaliseDomain,
  owningDomain,
  routedSenderDomains,
  senderDomain,
  tenantOwnsSender,
} from './sender.ts';

/** Where something was written in the config repository (1-based line and column). */
export interface SourcePosition {
  readonly file: string; // path relative to the config root, with forward slashes
  readonly line: number;
  readonly col: number;
}

export type RecipientScope = 'internal' | 'external' | 'any';
export type Placement = 'reply' | 'bottom';

/**
 * `when:` of a rule: one entry per condition written, keyed by the condition's key (`senders`,
 * `memberOf`, `recipients`, `recipientDomains`, `between`, `attributes` for the directory
 * attributes, …). Each condition under src/policy/conditions/ defines its key, the shape of its
 * entry and how it matches; the model stays unaware of them, so a new condition changes nothing
 * here. An absent key is an absent condition: a rule without entries matches every message.
 */
export type RuleConditions = Readonly<Record<string, unknown>>;

/** How `{{image "x"}}` reaches the reader: a MIME part of the message (cid:) or a URL. */
export type ImageMode = 'embedded' | 'hosted';
export type PlainTextMode = 'keep' | 'html';

export interface Rule {
  readonly name: string;
  readonly when: RuleConditions;
  readonly signature?: string; // template names under templates/
  readonly banner?: string;
  readonly disclaimer?: string;
  readonly placement: Placement;
  /** Overrides the tenant's `images.mode` for this rule (absent: the tenant's). */
  readonly images?: ImageMode;
  /** Absent: `keep`. */
  readonly plainText?: PlainTextMode;
  readonly position: SourcePosition;
}

export type SenderScope = { readonly kind: 'all' } | { readonly kind: 'memberOf'; readonly group: string };

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface TenantExchange {
  readonly smartHost: string;
  readonly certificateDomain: string;
  readonly deliverTo: HostPort;
  readonly senders: SenderScope;
  readonly internal: boolean;
}

/**
 * The Microsoft cloud a tenant lives in (`cloud:` in its tenant file): where sigops signs in and
 * which Exchange Online and Graph it calls. `gcc` (GCC moderate) uses the worldwide endpoints;
 * the endpoints of each are in src/entra/cloud.ts.
 */
export const TENANT_CLOUDS = ['global', 'gcc', 'gcc-high', 'dod', 'china'] as const;
export type TenantCloud = (typeof TENANT_CLOUDS)[number];

/**
 * `sentItems:` of a tenant: after the relay signed and delivered a message, replace the unsigned
 * copy in the sender's Sent Items with the signed one, through Microsoft Graph (src/sent-items,
 * docs/sent-items.md). Absent: off. The app's Mail.ReadWrite reaches every mailbox unless an
 * Exchange management scope limits it: `scope` names that scope, and `unscoped` says in so many
 * words that the tenant runs without one.
 */
export type SentItemsUpdate =
  | { readonly update: true; readonly scope: string; readonly unscoped?: false }
  | { readonly update: true; readonly unscoped: true; readonly scope?: undefined };

/** Mailboxes that are not one person's, which a Graph tenant may include (`directory.mailboxes`). */
export const MAILBOX_KINDS = ['shared', 'room', 'equipment'] as const;
export type MailboxKind = (typeof MAILBOX_KINDS)[number];

/**
 * Where a tenant's users come from. `overrides`: the hand-edited attributes file merged over
 * them, when the tenant file names one (else `directory/<slug>.overrides.yaml`, when it exists:
 * see overridesFileOf). `mailboxes`: for Graph, the non-personal mailboxes included (absent: none).
 */
export type DirectorySource =
  | { readonly source: 'file'; readonly file: string; readonly overrides?: string }
  | { readonly source: 'graph'; readonly snapshot: string; readonly overrides?: string; readonly mailboxes?: readonly MailboxKind[] };

/** The overrides file of a tenant and whether the tenant file named it (then it must exist). */
export function overridesFileOf(tenant: Pick<Tenant, 'slug' | 'directory'>): { readonly file: string; readonly explicit: boolean } {
  const named = tenant.directory.overrides;
  return named !== undefined ? { file: named, explicit: true } : { file: `directory/${tenant.slug}.overrides.yaml`, explicit: false };
}

export interface Tenant {
  readonly slug: string; // file name without .yaml
  readonly id: string; // Entra tenant id, lower-case GUID
  readonly name: string;
  readonly domains: readonly string[]; // lower-case
  readonly enabled: boolean;
  /** Absent: `global`, the worldwide cloud (the loader always sets it). */
  readonly cloud?: TenantCloud;
  readonly exchange: TenantExchange;
  readonly directory: DirectorySource;
  /** Absent: Sent Items are left alone (the default). */
  readonly sentItems?: SentItemsUpdate;
  /** `images:` of the tenant file. Absent: embedded, and no base URL. */
  readonly images?: TenantImages;
  readonly rules: readonly Rule[];
  readonly file: string; // e.g. tenants/contoso.yaml
}

/** `images:` of a tenant: the default mode of its rules, and where hosted images live. */
export interface TenantImages {
  readonly mode: ImageMode;
  /** https URL that images/<name> is published under (needed by `hosted`). */
  readonly baseUrl?: string;
}

/** Largest image under images/ (bytes). */
export const MAX_IMAGE_BYTES = 200 * 1024;
/** Largest total of the images one rule's blocks embed in a message (bytes). */
export const MAX_IMAGES_PER_MESSAGE_BYTES = 500 * 1024;

/** A file under images/, checked: a PNG, JPEG or GIF (by its first bytes) within the size limit. */
export interface ImageAsset {
  readonly name: string; // e.g. "logo.png"
  readonly file: string; // images/logo.png
  readonly mime: 'image/png' | 'image/jpeg' | 'image/gif';
  readonly data: Uint8Array;
  /** Stable per content and name, without angle brackets: `<sha256 16 hex>.<name>@sigops`. */
  readonly contentId: string;
}

/** One user of a tenant's directory. Extra attributes are kept as strings. */
export interface DirectoryUser {
  readonly email: string; // lower-case, the primary address
  /** The other addresses the user sends from, lower-case (absent: none). */
  readonly aliases?: readonly string[];
  readonly displayName?: string;
  readonly memberOf: readonly string[]; // lower-case
  readonly attributes: Readonly<Record<string, string>>; // every scalar attribute, incl. displayName, jobTitle, …
}

export interface Directory {
  readonly users: ReadonlyMap<string, DirectoryUser>; // by lower-case primary e-mail
  /**
   * Every address that finds a user, primary and aliases, lower-case: the relay's one lookup
   * per message. Absent (a directory built by hand): the primary addresses of `users` only.
   */
  readonly addresses?: ReadonlyMap<string, DirectoryUser>;
}

export interface Template {
  readonly name: string; // e.g. "standard" for templates/standard.html.hbs
  readonly html: string; // source
  readonly text?: string; // source of the .txt.hbs twin, when present
  readonly htmlFile: string;
  readonly textFile?: string;
}

/** A loaded, validated config repository. */
export interface ConfigRepo {
  readonly root: string; // absolute path
  readonly tenants: readonly Tenant[];
  readonly templates: ReadonlyMap<string, Template>;
  readonly directories: ReadonlyMap<string, Directory>; // by tenant slug
  /** images/ by file name (absent: none). */
  readonly images?: ReadonlyMap<string, ImageAsset>;
}
