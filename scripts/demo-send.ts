// `npm run demo`: sends a realistic reply (Outlook-style HTML + plain text, quoted thread) from
// Alice at Contoso through the relay started by `npm start`, and prints the signed .eml path.
//   npm start            # terminal 1
//   npm run demo         # terminal 2  (options: --server 127.0.0.1:2525 --outbox outbox)
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: '127.0.0.1:2525' },
    outbox: { type: 'string', default: 'outbox' },
    tenant: { type: 'string', default: '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10' }, // example-config/tenants/contoso.yaml
    from: { type: 'string', default: 'alice@contoso.com' },
    to: { type: 'string', default: 'bob@example.org' },
  },
});
const [host = '127.0.0.1', port = '2525'] = values.server!.split(':');

const quotedHtml = `
<div id="appendonsend"></div>
<hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">
<b>From:</b> Bob Customer &lt;${values.to}&gt;<br>
<b>Sent:</b> Friday, November 20, 2026 4:12 PM<br>
<b>To:</b> Alice Example &lt;${values.from}&gt;<br>
<b>Subject:</b> Renewal quote</font>
<div>&nbsp;</div></div>
<div class="BodyFragment"><font size="2"><span style="font-size:11pt;">
<div class="PlainText">Hi Alice,<br><br>could you send us the renewal quote for next year, with the extra 20 seats?<br><br>Thanks,<br>Bob</div>
</span></font></div>`;

const html = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body dir="ltr">
<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">Hi Bob,</div>
<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);"><br></div>
<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">the quote is attached: 20 extra seats, same price per seat as this year. Let me know if you need anything else before Friday.</div>
<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);"><br></div>
<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">Alice</div>
${quotedHtml}
</body></html>`;

const text = `Hi Bob,

the quote is attached: 20 extra seats, same price per seat as this year. Let me know if you need anything else before Friday.

Alice

________________________________
From: Bob Customer <${values.to}>
Sent: Friday, November 20, 2026 4:12 PM
To: Alice Example <${values.from}>
Subject: Renewal quote

Hi Alice,

could you send us the renewal quote for next year, with the extra 20 seats?

Thanks,
Bob
`;

const transport = nodemailer.createTransport({
  host,
  port: Number(port),
  secure: false,
  requireTLS: true, // the relay refuses mail before STARTTLS
  tls: { rejectUnauthorized: false }, // `npm start` uses a generated self-signed certificate
  name: 'demo.outbound.protection.outlook.com',
});

try {
  const info = await transport.sendMail({
    from: `Alice Example <${values.from}>`,
    to: `Bob Customer <${values.to}>`,
    subject: 'RE: Renewal quote',
    inReplyTo: '<CH2PR11MB4390A1B2C3@CH2PR11MB4390.namprd11.prod.outlook.com>',
    references: '<CH2PR11MB4390A1B2C3@CH2PR11MB4390.namprd11.prod.outlook.com>',
    headers: {
      'X-MS-Exchange-CrossTenant-Id': values.tenant!,
      'X-MS-Has-Attach': 'yes',
      'Thread-Topic': 'Renewal quote',
    },
    text,
    html,
    attachments: [{ filename: 'renewal-quote-2027.csv', content: 'item,seats,price\r\nE5 licence,120,57.00\r\n', contentType: 'text/csv' }],
  });
  process.stdout.write(`relay answered: ${info.response}\n`);
  const id = /Relayed as (\S+)/.exec(info.response)?.[1];
  const dir = resolve(values.outbox!);
  const file = id ? (await readdir(dir).catch(() => [] as string[])).find((f) => f.endsWith(`-${id}.eml`)) : undefined;
  if (file) process.stdout.write(`signed message: ${join(dir, file)}\n`);
  else process.stdout.write(`delivered (not to an outbox in ${dir}; is the relay running with --outbox?)\n`);
} catch (err) {
  const e = err as { response?: string; message?: string };
  process.stderr.write(`demo failed: ${e.response ?? e.message}\n(is \`npm start\` running?)\n`);
  process.exitCode = 1;
} finally {
  transport.close();
}
