// The compiled policy: a loaded ConfigRepo turned into an immutable structure that answers
// "what does this message get?" on the relay's hot path. Everything that can be done once
// (template compilation, each rule's conditions, user views) is done here, off that path.
import type { ConfigRepo, DirectoryUser, ImageAsset, ImageMode, Rule, Tenant } from '../model/index.ts';
import { domainAndParents, senderDomain } from '../model/index.ts';
import { compileSignatureTemplate, joinBlocks, type CompiledTemplate, type RenderedBlock, type TemplateContext } from '../signature/index.ts';
import { CONDITIONS, type ConditionRegistry, type MessageFacts, type MessageTest, type SentAs } from './conditions/index.ts';
import type { EmbeddedImage, Policy, SigningDecision, SigningRequest, TenantPolicy } from './types.ts';

export type * from './types.ts';

interface CompiledRule {
  readonly rule: Rule;
  /** One per condition that narrows what matches; the rule applies when all pass. */
  readonly tests: readonly MessageTest[];
  readonly blocks: readonly CompiledTemplate[];
  /** How `{{image}}` resolves for this rule: the rule's `images`, else the tenant's, else embedded. */
  readonly imageMode: ImageMode;
}

/** images/ as templates reach it; the same for every rule of every tenant of a policy. */
interface ImageStore {
  readonly assets: ReadonlyMap<string, ImageAsset>;
  readonly embedded: ReadonlyMap<string, EmbeddedImage>;
}

function imageStore(assets: ReadonlyMap<string, ImageAsset>): ImageStore {
  const embedded = new Map<string, EmbeddedImage>();
  for (const a of assets.values()) embedded.set(a.name, Object.freeze({ contentId: a.contentId, name: a.name, mime: a.mime, data: a.data }));
  return { assets, embedded };
}

const DAY_MS = 86_400_000;
/** Rendered decisions kept per policy (a few KB each): the senders active right now. */
export const RENDER_CACHE_SIZE = 5000;

/**
 * A small LRU of rendered decisions. Rendering depends only on the rule, the user and the UTC
 * day (templates see `now` as the start of the day), so a decision can be reused for every
 * message of that sender that day. Internal to a policy, which stays immutable from outside.
 */
class RenderCache {
  private readonly map = new Map<string, SigningDecision>();
  constructor(private readonly max: number) {}
  get(key: string): SigningDecision | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: SigningDecision): void {
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}
/** Directory `mailboxType` values of mailboxes people send as (docs/directory.md). */
const SHARED_KINDS: ReadonlySet<string> = new Set(['shared', 'room', 'equipment']);
const PAUSED: SigningDecision = Object.freeze({ kind: 'skip', reason: 'tenant-paused' });
const NO_RULE: SigningDecision = Object.freeze({ kind: 'skip', reason: 'no-matching-rule' });

/** A template whose compilation failed: every render fails, and so the decision is render-failed. */
function brokenTemplate(name: string, error: unknown): CompiledTemplate {
  const message = error instanceof Error ? error.message : String(error);
  return Object.freeze({
    name,
    render(): RenderedBlock {
      throw new Error(`template '${name}' does not compile: ${message}`);
    },
  });
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** The template view of a directory user: every attribute plus memberOf, no prototype. */
function userView(u: DirectoryUser): Readonly<Record<string, unknown>> {
  const v = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(u.attributes)) v[k] = u.attributes[k];
  v.memberOf = u.memberOf;
  return Object.freeze(v);
}

class CompiledTenant implements TenantPolicy {
  /** By every lower-case address of a user, aliases included. */
  private readonly users: ReadonlyMap<string, DirectoryUser>;
  private readonly views = new WeakMap<DirectoryUser, Readonly<Record<string, unknown>>>();
  private readonly domains: ReadonlySet<string>;
  private readonly view: TemplateContext['tenant'];

  constructor(
    readonly tenant: Tenant,
    users: ReadonlyMap<string, DirectoryUser>,
    private readonly rules: readonly CompiledRule[],
    private readonly cache: RenderCache,
    private readonly cacheId: string,
    private readonly images: ImageStore,
  ) {
    this.users = users;
    this.domains = new Set(tenant.domains);
    this.view = Object.freeze({ name: tenant.name, domains: tenant.domains });
  }

  decide(request: SigningRequest): SigningDecision {
    if (!this.tenant.enabled) return PAUSED;
    const sender = request.sender.toLowerCase();
    const fromAddress = request.from?.address.toLowerCase();
    const { user, sentAs } = this.signerOf(sender, fromAddress, request.senderHeader?.address.toLowerCase());

    // The facts every condition tests, once per message.
    const recipients = request.recipients;
    const recipientDomains = new Array<string>(recipients.length);
    let internalCount = 0;
    for (let i = 0; i < recipients.length; i++) {
      const d = domainOf(recipients[i]!.toLowerCase());
      recipientDomains[i] = d;
      if (this.domains.has(d)) internalCount++;
    }
    const nowMs = request.now.getTime();
    const message: MessageFacts = {
      sender,
      user,
      sentAs,
      messageType: request.messageType ?? 'new',
      from: request.from,
      recipientDomains,
      allInternal: recipients.length > 0 && internalCount === recipients.length,
      anyExternal: internalCount < recipients.length,
      now: nowMs,
    };

    rules: for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r]!;
      const tests = rule.tests;
      for (let i = 0; i < tests.length; i++) if (!tests[i]!(message)) continue rules;
      const day = Math.floor(nowMs / DAY_MS);
      const key = user
        ? `${this.cacheId}\u0000${r}\u0000${day}\u0000d\u0000${user.email}`
        : `${this.cacheId}\u0000${r}\u0000${day}\u0000f\u0000${fromAddress ?? sender}\u0000${request.from?.name ?? ''}`;
      let decision = this.cache.get(key);
      if (decision === undefined) {
        decision = this.render(rule, user, request, new Date(day * DAY_MS));
        this.cache.set(key, decision);
      }
      return decision;
    }
    return NO_RULE;
  }

  /**
   * Whom the message is signed for. Exchange writes the headers after checking the delegate's
   * permission: Send on Behalf puts the principal in From and the delegate in Sender (signed for
   * the delegate); Send As puts the mailbox sent as in From, with no Sender (signed for it: a
   * shared mailbox has its own entry). The envelope sender comes last: which address Exchange
   * uses there for delegated sending is not documented, and From/Sender suffice.
   */
  private signerOf(sender: string, fromAddress: string | undefined, senderHeader: string | undefined): { user: DirectoryUser | undefined; sentAs: SentAs } {
    const fromUser = fromAddress !== undefined ? this.users.get(fromAddress) : undefined;
    if (senderHeader !== undefined && senderHeader !== fromAddress) {
      const delegate = this.users.get(senderHeader);
      // a Sender that is another address of the From mailbox is not a delegate
      if (delegate !== undefined && delegate !== fromUser) return { user: delegate, sentAs: 'onBehalf' };
    }
    const user = fromUser ?? (sender !== fromAddress ? this.users.get(sender) : undefined);
    return { user, sentAs: user !== undefined && SHARED_KINDS.has(user.attributes.mailboxType?.toLowerCase() ?? '') ? 'shared' : 'self' };
  }

  private userFor(user: DirectoryUser | undefined, request: SigningRequest): Readonly<Record<string, unknown>> {
    if (user) {
      let v = this.views.get(user);
      if (!v) {
        v = userView(user);
        this.views.set(user, v);
      }
      return v;
    }
    // Not in the directory: what the From header says, and nothing else.
    const v = Object.create(null) as Record<string, unknown>;
    v.email = request.from?.address.toLowerCase() ?? request.sender.toLowerCase();
    const name = request.from?.name?.trim();
    if (name) v.displayName = name;
    v.memberOf = [];
    return v;
  }

  /** What `{{image "name"}}` becomes under a rule's mode; an unknown image fails the render (fail open). */
  private imageResolver(mode: ImageMode): (name: string) => string {
    const baseUrl = this.tenant.images?.baseUrl?.replace(/\/+$/, '');
    return (name: string): string => {
      const image = this.images.embedded.get(name);
      if (!image) throw new Error(`no image '${name}' under images/`);
      if (mode === 'hosted') return baseUrl !== undefined ? `${baseUrl}/${encodeURIComponent(name)}` : '';
      return `cid:${image.contentId}`;
    };
  }

  private render(rule: CompiledRule, user: DirectoryUser | undefined, request: SigningRequest, today: Date): SigningDecision {
    const uses = rule.imageMode === 'embedded';
    const context: TemplateContext = { user: this.userFor(user, request), tenant: this.view, now: today, images: this.imageResolver(rule.imageMode) };
    try {
      const parts: RenderedBlock[] = [];
      for (const t of rule.blocks) parts.push(t.render(context));
      const joined = joinBlocks(parts);
      // the parts to attach: the images the HTML block refers to, each once (a reference in
      // the text twin or one an `{{#if}}` left out attaches nothing)
      const images = uses && joined.html.includes('cid:') ? [...this.images.embedded.values()].filter((i) => joined.html.includes(`cid:${i.contentId}`)) : [];
      return Object.freeze({
        kind: 'sign',
        rule: rule.rule.name,
        placement: rule.rule.placement,
        ...(rule.rule.plainText === 'html' ? { plainText: 'html' as const } : {}),
        blocks: Object.freeze({ html: joined.html, text: joined.text, ...(images.length > 0 ? { images: Object.freeze(images) } : {}) }),
        senderInDirectory: user !== undefined,
      });
    } catch (err) {
      // Fail open: the relay sends the message unsigned and logs why.
      return Object.freeze({ kind: 'skip', reason: 'render-failed', detail: `rule '${rule.rule.name}': ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}

/**
 * Compiles a loaded config into an immutable Policy. Does not throw for a validated config.
 * `conditions`: the rule conditions the config was loaded with (tests register their own).
 */
export function compilePolicy(config: ConfigRepo, conditions: ConditionRegistry = CONDITIONS): Policy {
  const compiled = new Map<string, CompiledTemplate>();
  const templateFor = (name: string): CompiledTemplate => {
    let t = compiled.get(name);
    if (!t) {
      const source = config.templates.get(name);
      if (!source) {
        t = brokenTemplate(name, new Error('no such template'));
      } else {
        try {
          t = compileSignatureTemplate(source);
        } catch (err) {
          t = brokenTemplate(name, err);
        }
      }
      compiled.set(name, t);
    }
    return t;
  };

  const cache = new RenderCache(RENDER_CACHE_SIZE);
  const images = imageStore(config.images ?? new Map());
  const tenants: TenantPolicy[] = [];
  const byId = new Map<string, TenantPolicy>();
  const byDomain = new Map<string, TenantPolicy>();
  for (const tenant of config.tenants) {
    const rules: CompiledRule[] = tenant.rules.map((rule) => {
      const blocks: CompiledTemplate[] = [];
      if (rule.signature !== undefined) blocks.push(templateFor(rule.signature));
      if (rule.banner !== undefined) blocks.push(templateFor(rule.banner));
      if (rule.disclaimer !== undefined) blocks.push(templateFor(rule.disclaimer));
      return Object.freeze({
        rule,
        tests: Object.freeze(conditions.compile(rule.when)),
        blocks: Object.freeze(blocks),
        imageMode: rule.images ?? tenant.images?.mode ?? 'embedded',
      });
    });
    // Keyed by every address of every user (aliases too): one Map lookup per message.
    const directory = config.directories.get(tenant.slug);
    const users = directory?.addresses ?? directory?.users ?? new Map<string, DirectoryUser>();
    const tp = Object.freeze(new CompiledTenant(tenant, users, Object.freeze(rules), cache, String(tenants.length), images));
    tenants.push(tp);
    if (!byId.has(tenant.id.toLowerCase())) byId.set(tenant.id.toLowerCase(), tp);
    for (const d of tenant.domains) if (!byDomain.has(d.toLowerCase())) byDomain.set(d.toLowerCase(), tp);
  }

  return Object.freeze({
    tenants: Object.freeze(tenants),
    tenantById(id: string): TenantPolicy | undefined {
      return byId.get(id.trim().toLowerCase());
    },
    tenantForDomain(domain: string): TenantPolicy | undefined {
      return byDomain.get(domain.trim().toLowerCase().replace(/\.$/, ''));
    },
    tenantForSender(address: string): TenantPolicy | undefined {
      // The nearest tenant domain, as tenantOwnsSender reads it: a subdomain sender belongs to
      // the tenant of its parent domain (the longest matching domain wins).
      const domain = senderDomain(address);
      if (domain === undefined) return undefined;
      for (const d of domainAndParents(domain)) {
        const tp = byDomain.get(d);
        if (tp) return tp;
      }
      return undefined;
    },
  });
}
