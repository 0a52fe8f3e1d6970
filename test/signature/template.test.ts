import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyzeTemplate, compileSignatureTemplate, compileTemplate, formatPhone, safeUrl, telUri, TemplateCompileError,
  type TemplateContext,
} from '../../src/signature/index.ts';

function ctx(user: Record<string, unknown>, now = new Date('2026-12-10T10:00:00Z')): TemplateContext {
  return { user: Object.assign(Object.create(null) as Record<string, unknown>, user), tenant: { name: 'Contoso Ltd', domains: ['contoso.com'] }, now };
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' };
const esc = (s: string) => s.replace(/[&<>"'`=]/g, (c) => ENTITIES[c]!);

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  '{{constructor.constructor "return process"}}',
  '{{> partial}}',
  '&lt;already&gt; & "quotes"',
];

test('hostile attribute values are HTML-escaped in text content and attributes, never evaluated', () => {
  const render = compileTemplate('<a title="{{user.jobTitle}}" href="mailto:{{user.email}}">{{user.displayName}}</a>', 'html');
  for (const v of HOSTILE) {
    const out = render(ctx({ displayName: v, jobTitle: v, email: v }));
    assert.ok(!out.includes('<script'), out);
    assert.ok(!out.includes('<img'), out);
    assert.ok(!/title="[^"]*"[^ >]/.test(out), `attribute breakout in ${out}`);
    assert.ok(!out.includes("'"), out); // single quotes are escaped too
    // Every value comes out literally, escaped; Handlebars syntax in a value is data, not rendered.
    assert.equal(out, `<a title="${esc(v)}" href="mailto:${esc(v)}">${esc(v)}</a>`);
  }
  assert.equal(
    render(ctx({ displayName: '<b>x</b>', jobTitle: 'a"b', email: 'e@x' })),
    '<a title="a&quot;b" href="mailto:e@x">&lt;b&gt;x&lt;/b&gt;</a>',
  );
});

test('text templates are not HTML-escaped, and values still are not evaluated', () => {
  const render = compileTemplate('{{user.displayName}} <{{user.email}}>', 'text');
  assert.equal(render(ctx({ displayName: '<script>{{x}}</script>', email: 'a@b' })), '<script>{{x}}</script> <a@b>');
});

test('the text twin is derived from the rendered HTML when there is no .txt.hbs', () => {
  const t = compileSignatureTemplate({ name: 's', html: '<p>{{user.displayName}}<br>{{user.jobTitle}}</p>', htmlFile: 'templates/s.html.hbs' });
  const out = t.render(ctx({ displayName: 'Tom & "Jerry" <tj@x>', jobTitle: 'Cat' }));
  assert.equal(out.html, '<p>Tom &amp; &quot;Jerry&quot; &lt;tj@x&gt;<br>Cat</p>');
  assert.equal(out.text, 'Tom & "Jerry" <tj@x>\nCat');
  const twin = compileSignatureTemplate({ name: 's', html: '<p>x</p>', text: '-- \n{{user.displayName}}\n', htmlFile: 'h', textFile: 't' });
  assert.equal(twin.render(ctx({ displayName: 'Ann' })).text, '-- \nAnn');
});

test('helpers: phone, tel, url, urlencode, default, eq, upper/lower, year, date', () => {
  const render = compileTemplate(
    '{{phone user.phone}}|{{tel user.phone}}|{{url user.website}}|{{urlencode user.department}}|{{default user.missing "n/a"}}|' +
      '{{#if (eq user.department "R&D")}}rd{{else}}other{{/if}}|{{upper user.department}}|{{lower "ABC"}}|{{year}}|{{date "D MMMM YYYY"}}|{{date}}|' +
      '{{#if (and user.phone (not user.mobile))}}landline{{/if}}|{{#if (or user.mobile user.fax)}}m{{else}}none{{/if}}|{{#unless (ne 1 1)}}same{{/unless}}',
    'html',
  );
  assert.equal(
    render(ctx({ phone: '  +1 (555)  0100 ext', website: 'javascript:alert(1)', department: 'R&D' }, new Date('2027-01-05T23:59:59Z'))),
    '+1 (555) 0100|+15550100||R%26D|n/a|rd|R&amp;D|abc|2027|5 January 2027|2027-01-05|landline|none|same',
  );
  assert.equal(formatPhone('+49 30++901820'), '+49 30901820');
  assert.equal(telUri('(555) 0100'), '5550100');
  assert.equal(telUri(undefined), '');
  assert.equal(safeUrl('https://contoso.com/x'), 'https://contoso.com/x');
  assert.equal(safeUrl(' data:text/html,x'), '');
});

test('missing attributes render empty and never throw', () => {
  const render = compileTemplate('[{{user.jobTitle}}][{{phone user.phone}}][{{#each user.memberOf}}{{this}};{{/each}}][{{tenant.name}}]', 'html');
  assert.equal(render(ctx({})), '[][][][Contoso Ltd]');
  assert.equal(render(ctx({ memberOf: ['a@x', 'b@x'] })), '[][][a@x;b@x;][Contoso Ltd]');
});

test('refused templates: unknown helper, prototype access, lookup, partials, triple braces — with positions', () => {
  const codes = (src: string, kind: 'html' | 'text' = 'html') =>
    analyzeTemplate(src, kind).problems.map((p) => `${p.line}:${p.col} ${p.code}`);
  assert.deepEqual(codes('<p>\n  {{foo bar}}</p>'), ['2:5 template-unknown-helper']);
  assert.deepEqual(codes('{{user.__proto__}}'), ['1:3 template-prototype']);
  assert.deepEqual(codes('{{user.[constructor]}}'), ['1:3 template-prototype']);
  assert.deepEqual(codes('{{#with user}}{{__proto__.x}}{{/with}}'), ['1:17 template-prototype']);
  assert.deepEqual(codes('{{lookup user "constructor"}}'), ['1:3 template-helper-refused']);
  assert.deepEqual(codes('{{log user}}'), ['1:3 template-helper-refused']);
  assert.deepEqual(codes('{{> x}}'), ['1:1 template-partial']);
  assert.deepEqual(codes('{{{user.x}}}'), ['1:1 template-unescaped']);
  assert.deepEqual(codes('{{{user.x}}}', 'text'), []);
  assert.deepEqual(codes('{{#if user.a}}x'), ['1:1 template-syntax']);
  assert.deepEqual(codes('{{#if user.a}}\n{{/each}}'), ['1:4 template-syntax']);
  assert.deepEqual(codes('{{if user.a}}'), ['1:3 template-syntax']);
  assert.deepEqual(codes('{{#phone user.a}}x{{/phone}}'), ['1:4 template-syntax']);
  assert.deepEqual(codes('{{phone user.a x=1}}'), ['1:1 template-syntax']);
  assert.deepEqual(codes('{{process.env.HOME}}'), ['1:3 template-unknown-variable']);
  assert.deepEqual(codes('{{@root.user.displayName}} {{#each user.memberOf}}{{this}}{{@index}}{{/each}}'), []);
  assert.throws(() => compileTemplate('{{foo bar}}', 'html'), TemplateCompileError);
});

test('no prototype reaches a template even when data carries such keys', () => {
  const render = compileTemplate('[{{user.polluted}}][{{user.displayName}}]', 'html');
  const user = JSON.parse('{"__proto__": {"polluted": "yes"}, "displayName": "Ann"}') as Record<string, unknown>;
  assert.equal(render({ user, tenant: { name: 't', domains: [] }, now: new Date() }), '[][Ann]');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('inherited (prototype) properties are not readable at render time', () => {
  const render = compileTemplate('[{{user.polluted}}][{{user.displayName}}]', 'html');
  const user = Object.create({ polluted: 'yes' }) as Record<string, unknown>;
  user.displayName = 'Ann';
  assert.equal(render({ user, tenant: { name: 't', domains: [] }, now: new Date() }), '[][Ann]');
});

test('warning: a user value that starts an href/src without the url helper', () => {
  const warn = (src: string) => analyzeTemplate(src, 'html').warnings.map((w) => `${w.line}:${w.col} ${w.code}`);
  assert.deepEqual(warn('<a href="{{user.website}}">w</a>\n<img src={{user.photo}}>'), ['1:10 template-unsafe-url', '2:10 template-unsafe-url']);
  assert.deepEqual(warn('<a href="{{url user.website}}">w</a><a href="mailto:{{user.email}}">m</a><a href="tel:{{tel user.phone}}">t</a>'), []);
  assert.deepEqual(analyzeTemplate('<a href="{{user.website}}">', 'text').warnings, []);
});

test('absurdly deep nesting is a clear error, not a crash', () => {
  const n = 5000;
  const problems = analyzeTemplate(`${'{{#if user.a}}'.repeat(n)}x${'{{/if}}'.repeat(n)}`, 'html').problems;
  assert.deepEqual(problems.map((p) => `${p.line}:${p.col} ${p.code}`), ['1:897 template-too-complex']);
  const parens = analyzeTemplate(`{{default ${'(default '.repeat(100)}user.a${')'.repeat(100)}}}`, 'html').problems;
  assert.deepEqual(parens.map((p) => p.code), ['template-too-complex']);
});
