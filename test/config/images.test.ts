// images/ in the config repository and {{image "…"}} in templates: usable images load with a
// stable Content-ID; an unknown image, one over the limit, one of an unsupported type (SVG, or
// anything that is not PNG, JPEG or GIF by its content) is an error at the template's
// file:line:col; rules within the limit per message; hosted images need a base URL. And the
// compiled policy: cid: or the hosted URL, the images a decision carries, plainText.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigRepo } from '../../src/config/index.ts';
import { contentIdOf, imageTypeOf } from '../../src/config/images.ts';
import { MAX_IMAGE_BYTES } from '../../src/model/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';

const LOGO = readFileSync(resolve('example-config/images/contoso-logo.png'));
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100)]);

interface Repo {
  template?: string;
  images?: Record<string, Buffer | string>;
  tenantExtra?: string;
  ruleExtra?: string;
}

async function load(o: Repo): Promise<Awaited<ReturnType<typeof loadConfigRepo>>> {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-images-'));
  try {
    cpSync(resolve('test/fixtures/configs/directory-missing'), dir, { recursive: true });
    rmSync(join(dir, 'expected.txt'));
    mkdirSync(join(dir, 'directory'), { recursive: true });
    writeFileSync(join(dir, 'directory', 'acme.yaml'), 'users:\n  - email: ann@acme.example\n    displayName: Ann\n');
    if (o.template !== undefined) writeFileSync(join(dir, 'templates', 'basic.html.hbs'), o.template);
    if (o.images) {
      mkdirSync(join(dir, 'images'));
      for (const [name, data] of Object.entries(o.images)) writeFileSync(join(dir, 'images', name), data);
    }
    const file = join(dir, 'tenants', 'acme.yaml');
    let yaml = readFileSync(file, 'utf8');
    if (o.tenantExtra) yaml = yaml.replace('rules:', `${o.tenantExtra}\nrules:`);
    if (o.ruleExtra) yaml = yaml.replace('    signature: basic', `    signature: basic\n${o.ruleExtra}`);
    writeFileSync(file, yaml);
    return await loadConfigRepo(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function errors(r: Awaited<ReturnType<typeof loadConfigRepo>>): string[] {
  return r.ok ? [] : r.errors.map((e) => `${e.file}:${e.line}:${e.col} ${e.code}`);
}

const TEMPLATE = '<p>{{user.displayName}}</p>\n<p><img src="{{image "logo.png"}}" alt="logo"> <img src="{{image "dot.gif"}}"></p>\n';

test('images load by content type, with a Content-ID from their bytes and name', async () => {
  const r = await load({ template: TEMPLATE, images: { 'logo.png': LOGO, 'dot.gif': GIF, 'photo.jpg': JPEG } });
  assert.ok(r.ok, JSON.stringify(errors(r)));
  const images = r.config.images!;
  assert.deepEqual([...images.keys()], ['dot.gif', 'logo.png', 'photo.jpg']);
  assert.deepEqual([...images.values()].map((i) => i.mime), ['image/gif', 'image/png', 'image/jpeg']);
  assert.equal(images.get('logo.png')!.contentId, contentIdOf('logo.png', LOGO));
  assert.match(images.get('logo.png')!.contentId, /^[0-9a-f]{16}\.logo\.png@sigops$/);
  assert.equal(contentIdOf('logo.png', LOGO), contentIdOf('logo.png', Buffer.from(LOGO)), 'the same bytes, the same id');
  assert.notEqual(contentIdOf('logo.png', LOGO), contentIdOf('logo.png', GIF));
});

test('a template naming an unknown image, an image over the limit, or of an unsupported type: errors at file:line:col', async () => {
  const missing = await load({ template: TEMPLATE, images: { 'logo.png': LOGO } });
  assert.deepEqual(errors(missing), ['templates/basic.html.hbs:2:66 image-not-found']);
  assert.match(!missing.ok ? missing.errors[0]!.message : '', /image 'dot\.gif' not found/);

  const big = Buffer.concat([LOGO.subarray(0, 8), Buffer.alloc(MAX_IMAGE_BYTES)]);
  const tooLarge = await load({ template: TEMPLATE, images: { 'logo.png': big, 'dot.gif': GIF } });
  assert.deepEqual(errors(tooLarge), ['images/logo.png:1:1 image-too-large', 'templates/basic.html.hbs:2:22 image-too-large']);

  const svg = await load({ template: TEMPLATE, images: { 'logo.png': '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', 'dot.gif': GIF } });
  assert.deepEqual(errors(svg), ['images/logo.png:1:1 image-unsupported-type', 'templates/basic.html.hbs:2:22 image-unsupported-type']);
  assert.match(!svg.ok ? svg.errors[0]!.message : '', /SVG.*PNG/);

  const other = await load({ template: TEMPLATE, images: { 'logo.png': 'not an image', 'dot.gif': GIF } });
  assert.deepEqual(errors(other), ['images/logo.png:1:1 image-unsupported-type', 'templates/basic.html.hbs:2:22 image-unsupported-type']);

  const notLiteral = await load({ template: '<img src="{{image user.photo}}">', images: { 'logo.png': LOGO } });
  assert.deepEqual(errors(notLiteral), ['templates/basic.html.hbs:1:19 template-image-name']);
});

test('a rule over the total per message, and hosted images without a base URL, are errors at the rule', async () => {
  const near = Buffer.concat([LOGO.subarray(0, 8), Buffer.alloc(MAX_IMAGE_BYTES - 100)]);
  const images = { 'a.png': near, 'b.png': near, 'c.png': near };
  const template = '{{image "a.png"}}{{image "b.png"}}{{image "c.png"}}';
  assert.deepEqual(errors(await load({ template, images })), ['tenants/acme.yaml:12:5 images-too-large']);
  // hosted, the same images are fine
  const hosted = await load({ template, images, tenantExtra: 'images: { mode: hosted, baseUrl: "https://cdn.acme.example/sig" }' });
  assert.ok(hosted.ok, JSON.stringify(errors(hosted)));
  assert.deepEqual(errors(await load({ template, images, tenantExtra: 'images: { mode: hosted }' })), ['tenants/acme.yaml:11:17 image-base-url-missing']);
  assert.deepEqual(errors(await load({ template: TEMPLATE, images: { 'logo.png': LOGO, 'dot.gif': GIF }, ruleExtra: '    images: hosted' })), ['tenants/acme.yaml:14:13 image-base-url-missing']);
  // the schema: modes and an https base URL only
  assert.equal((await load({ template: TEMPLATE, images: { 'logo.png': LOGO, 'dot.gif': GIF }, ruleExtra: '    images: linked' })).ok, false);
  assert.equal((await load({ template: TEMPLATE, images: { 'logo.png': LOGO, 'dot.gif': GIF }, tenantExtra: 'images: { baseUrl: "http://cdn.acme.example" }' })).ok, false);
  assert.equal((await load({ ruleExtra: '    plainText: always' })).ok, false);
});

test('the compiled policy: cid: references and the images they need, or hosted URLs; plainText', async () => {
  const r = await load({
    template: TEMPLATE,
    images: { 'logo.png': LOGO, 'dot.gif': GIF, 'unused.png': LOGO },
    tenantExtra: 'images: { baseUrl: "https://cdn.acme.example/sig/" }',
    ruleExtra: '    plainText: html',
  });
  assert.ok(r.ok, JSON.stringify(errors(r)));
  const request = { sender: 'ann@acme.example', recipients: ['x@example.org'], now: new Date('2026-11-30T10:00:00Z') };
  const embedded = compilePolicy(r.config).tenantForDomain('acme.example')!.decide(request);
  assert.equal(embedded.kind, 'sign');
  if (embedded.kind !== 'sign') return;
  assert.equal(embedded.plainText, 'html');
  const logoId = r.config.images!.get('logo.png')!.contentId;
  assert.match(embedded.blocks.html, new RegExp(`src="cid:${logoId.replace(/\./g, '\\.')}"`));
  assert.deepEqual(embedded.blocks.images!.map((i) => i.name), ['dot.gif', 'logo.png']);
  assert.doesNotMatch(embedded.blocks.text, /cid:/);

  const hostedConfig = { ...r.config, tenants: r.config.tenants.map((t) => ({ ...t, rules: t.rules.map((rule) => ({ ...rule, images: 'hosted' as const })) })) };
  const hosted = compilePolicy(hostedConfig).tenantForDomain('acme.example')!.decide(request);
  assert.ok(hosted.kind === 'sign');
  if (hosted.kind !== 'sign') return;
  assert.match(hosted.blocks.html, /src="https:\/\/cdn\.acme\.example\/sig\/logo\.png"/);
  assert.equal(hosted.blocks.images, undefined);

  // an image gone from a config built by hand: the render fails, the message goes out unsigned
  const gone = compilePolicy({ ...r.config, images: new Map() }).tenantForDomain('acme.example')!.decide(request);
  assert.equal(gone.kind, 'skip');
  assert.ok(gone.kind === 'skip' && gone.reason === 'render-failed' && /no image 'logo\.png'/.test(gone.detail ?? ''));
});

test('image types are told by content', () => {
  assert.equal(imageTypeOf(LOGO), 'image/png');
  assert.equal(imageTypeOf(GIF), 'image/gif');
  assert.equal(imageTypeOf(JPEG), 'image/jpeg');
  assert.equal(imageTypeOf(Buffer.from('<svg viewBox="0 0 1 1"/>')), 'svg');
  assert.equal(imageTypeOf(Buffer.from('GIF90a')), undefined);
  assert.equal(imageTypeOf(Buffer.alloc(0)), undefined);
});
