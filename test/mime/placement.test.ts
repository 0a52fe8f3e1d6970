// Placement: the signature goes directly under the newest text, above the quoted thread, in
// both the HTML and the plain-text part, for each client family (our fixtures of each client's
// markup in test/fixtures/mail, and the talon-replies corpus of real replies).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sign, verifyOutput } from './helpers.ts';
import { CORPUS_DIR, CORPUS_MISSING } from '../corpus.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'mail');
const TALON = join(CORPUS_DIR, 'talon-replies');

interface Expect {
  /** What the original HTML/text continues with right where the block went (the quote). */
  htmlAt?: RegExp;
  textAt?: RegExp;
  /** What the original ends with right before it (the newest text). */
  htmlAfter?: RegExp;
  textAfter?: RegExp;
}

const CASES: Record<string, Expect> = {
  // Outlook desktop: Word HTML header block with a #E1E1E1 top border, wrapped in a bare <div>
  [`${FIX}/outlook-desktop.eml`]: {
    htmlAt: /^<div>\s*<div style="border:none;border-top:solid #E1E1E1 1\.0pt/,
    htmlAfter: /Alice<o:p><\/o:p><\/p>\s*<p class="MsoNormal"><o:p>&nbsp;<\/o:p><\/p>\s*$/,
    textAt: /^From: Bob Buyer <bob@fabrikam\.com>\r?\nSent:/,
    textAfter: /Alice\r?\n\r?\n$/,
  },
  // Outlook 2010, German UI, #B5C4DF, windows-1252
  [`${FIX}/outlook-2010-b5c4df.eml`]: {
    htmlAt: /^<div><div style='border:none;border-top:solid #B5C4DF/,
    htmlAfter: /<o:p>&nbsp;<\/o:p><\/span><\/p>$/,
    textAt: /^Von: Bob Buyer/,
    textAfter: /Grüße\r?\nAlice\r?\n\r?\n$/,
  },
  // Outlook on the web / new Outlook: appendonsend, <hr tabindex="-1">, divRplyFwdMsg
  [`${FIX}/owa.eml`]: {
    htmlAt: /^<div id="appendonsend"><\/div>\s*<hr [^>]*tabindex="-1">\s*<div id="divRplyFwdMsg"/,
    htmlAfter: /see you Thursday\.<\/div>\s*$/,
    textAt: /^_{32}\r?\nFrom: Bob/,
    textAfter: /see you Thursday\.\r?\n\r?\n$/,
  },
  // Outlook for iOS: the reference-message container holds the <hr> and divRplyFwdMsg
  [`${FIX}/outlook-ios.eml`]: {
    htmlAt: /^<div id="mail-editor-reference-message-container"/,
    htmlAfter: /Outlook for iOS<\/a><\/div><\/div>$/,
    textAt: /^_{32}\r?\nFrom: Bob/,
    textAfter: /Get Outlook for iOS<https:\/\/aka\.ms\/o0ukef>\r?\n$/,
  },
  [`${FIX}/outlook-android.eml`]: {
    htmlAt: /^<div id="ms-outlook-mobile-reference-message"/,
    htmlAfter: /Outlook for Android<\/a><\/div><\/div>$/,
  },
  // Outlook for Mac 2011
  [`${FIX}/outlook-mac.eml`]: {
    htmlAt: /^<span id="OLK_SRC_BODY_SECTION">/,
    htmlAfter: /Samples are on the way\.<\/div><div><br><\/div>$/,
    textAt: /^From: Bob Buyer/,
    textAfter: /Samples are on the way\.\r?\n\r?\n$/,
  },
  // Gmail: gmail_quote container; the text attribution is wrapped over two lines
  [`${FIX}/gmail.eml`]: {
    htmlAt: /^<div class="gmail_quote gmail_quote_container">/,
    htmlAfter: /Great, thanks!<\/div><br>$/,
    textAt: /^On Mon, 3 Nov 2025 at 09:58, Bob Buyer from Fabrikam Purchasing <\r?\nbob@fabrikam\.com> wrote:/,
    textAfter: /Great, thanks!\r?\n\r?\n$/,
  },
  [`${FIX}/gmail-forward.eml`]: {
    htmlAt: /^<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">-+ Forwarded message/,
    textAt: /^-+ Forwarded message -+/,
    textAfter: /FYI, see below\.\r?\n\r?\n$/,
  },
  // Apple Mail: <blockquote type="cite"> (attribution inside it) …
  [`${FIX}/apple-mail.eml`]: {
    htmlAt: /^<blockquote type="cite"><div>On 3 Nov 2025/,
    htmlAfter: /Perfect, thank you\.<br id="lineBreakAtBeginningOfMessage"><div><br>$/,
    textAt: /^> On 3 Nov 2025/,
    textAfter: /Perfect, thank you\.\r?\n\r?\n$/,
  },
  // … and the older form with the "On … wrote:" div before the blockquote
  [`${FIX}/apple-mail-old.eml`]: {
    htmlAt: /^<div><div>On Nov 3, 2025, at 9:58 AM, Bob Buyer/,
    htmlAfter: /Yes, Friday is fine\.<div><br><\/div><div><br>$/,
  },
  // Thunderbird: moz-cite-prefix; format=flowed text with LF line endings
  [`${FIX}/thunderbird.eml`]: {
    htmlAt: /^<div class="moz-cite-prefix">On 03\/11\/2025/,
    htmlAfter: /<p>Done, the order is in\.<\/p>\s*$/,
    textAt: /^On 03\/11\/2025 09:58, Bob Buyer wrote:\n> Please/,
    textAfter: /format=flowed joins again\.\n\n$/,
  },
  // Yahoo: ydp…yahoo_quoted
  [`${FIX}/yahoo.eml`]: {
    htmlAt: /^<div id="ydp5e6f7a8byahoo_quoted_1234567890"/,
    htmlAfter: /Thanks, received\.<\/div><\/div>$/,
    textAt: /^ {4}On Monday, 3 November 2025/,
    textAfter: /Thanks, received\.\r?\n\r?\n$/,
  },
  // Windows Mail: a top-bordered div whose first words are From:
  [`${FIX}/windows-mail.eml`]: {
    htmlAt: /^<div style='mso-element:para-border-div;border:none;border-top:solid #E1E1E1/,
    htmlAfter: /for Windows<\/p><p class=MsoNormal><o:p>&nbsp;<\/o:p><\/p>$/,
    textAt: /^From: Bob Buyer\r?\nSent: Monday/,
    textAfter: /Sent from Mail for Windows\r?\n\r?\n$/,
  },
  // plain-text quote headers
  [`${FIX}/plain-de-schrieb.eml`]: { textAt: /^Am 03\.11\.2025 um 09:58 schrieb Bob Buyer:/, textAfter: /Viele Grüße\r?\nAlice\r?\n\r?\n$/ },
  [`${FIX}/plain-fr-ecrit.eml`]: { textAt: /^Le lun\. 3 nov\. 2025 à 09:58, Bob Buyer <bob@fabrikam\.com> a\nécrit :/, textAfter: /Alice\n\n$/ },
  [`${FIX}/plain-original-message.eml`]: { textAt: /^-----Original Message-----/, textAfter: /Alice\r?\n\r?\n$/ },
  [`${FIX}/plain-iso-2022-jp.eml`]: { textAt: /^2025\/11\/03 9:58 に Bob Buyer さんは書きました:/, textAfter: /アリス\r?\n\r?\n$/ },
  // our own earlier signature inside the quoted thread does not stop the new text being signed
  [`${FIX}/thread-with-old-signature.eml`]: { htmlAt: /^<div id="appendonsend">/, htmlAfter: /Confirmed\.<\/div>\s*$/, textAt: /^_{32}/, textAfter: /Confirmed\.\r?\n\r?\n$/ },

  // talon-replies: real replies written by each client
  [`${TALON}/android.eml`]: { htmlAt: /^<div class="gmail_quote">02\.04\.2012/, htmlAfter: /<p>Hello<\/p>\n$/, textAt: /^02\.04\.2012 14:20 /, textAfter: /^Hello\n$/ },
  [`${TALON}/aol.eml`]: { htmlAt: /^<div style="font-family:arial,helvetica;font-size:10pt;color:black">-----Original Message-----/, textAt: /^-----Original Message-----/, textAfter: /^Hello\n+$/ },
  [`${TALON}/apple_mail.eml`]: { textAt: /^On Apr 3, 2012, at 4:19 PM, bob wrote:/, textAfter: /^Hello\n\n$/ },
  [`${TALON}/apple_mail_2.eml`]: { textAt: /^> On 22 Aug 2015/, textAfter: /^Hello\n$/ },
  [`${TALON}/comcast.eml`]: { htmlAt: /^<hr id="zwchr"><b>From: <\/b>/, htmlAfter: />Hello<br><br>$/, textAt: /^----- Original Message -----/, textAfter: /^Hello \n\n$/ },
  [`${TALON}/gmail.eml`]: { htmlAt: /^<div class="gmail_quote">On Mon, Apr 2, 2012/, htmlAfter: /Hello<br><br>$/, textAt: /^On Mon, Apr 2, 2012 at 6:26 PM, Megan One/, textAfter: /^Hello\n\n$/ },
  [`${TALON}/hotmail.eml`]: { htmlAt: /^<div><div id="SkyDrivePlaceholder"><\/div>&gt; Subject: Test/, htmlAfter: /Hello<br><br>$/, textAt: /^> Subject: Test/, textAfter: /Hello\n\n$/ },
  [`${TALON}/iphone.eml`]: { textAt: /^On Apr 3, 2012, at 4:19 PM, bob <bob@example\.com> wrote:/, textAfter: /Sent from my iPhone\n\n$/ },
  [`${TALON}/outlook.eml`]: { htmlAt: /^<p class=MsoNormal><b><span lang=EN-US[^>]*>From:<\/span><\/b>/, textAt: /^From: xxx@xxx\.mailgun\.org/, textAfter: /^Hello\n\n$/ },
  [`${TALON}/sparrow.eml`]: { htmlAt: /^<p style="color: #A0A0A8;">On Tuesday, April 3, 2012/, textAt: /^On Tuesday, April 3, 2012 at 4:55 PM, xxx wrote:/ },
  // bottom-posted (quote first, new text under it): the signature goes under the new text
  [`${TALON}/thunderbird.eml`]: { textAt: /^$/, textAfter: /> Hi \nHello$/ },
  [`${TALON}/yahoo.eml`]: { textAt: /^----- Original Message -----/, textAfter: /^Hello\n+$/ },
};

describe('placement under the newest text, above the quote', () => {
  for (const [file, expect] of Object.entries(CASES)) {
    it(file.replace(/^.*\/(test|corpus)\//, ''), { skip: file.startsWith(TALON) && CORPUS_MISSING }, async () => {
      const input = readFileSync(file);
      const { out, outcome } = await sign(input);
      assert.equal(outcome.signed, true, JSON.stringify(outcome));
      const where = verifyOutput(input, out, outcome);
      if (expect.htmlAt) {
        assert.ok(where.html, 'the HTML part was signed');
        assert.match(where.html.before.slice(where.html.at), expect.htmlAt);
      }
      if (expect.htmlAfter) assert.match(where.html!.before.slice(0, where.html!.at), expect.htmlAfter);
      if (expect.textAt) {
        assert.ok(where.text, 'the text part was signed');
        assert.match(where.text.before.slice(where.text.at), expect.textAt);
      }
      if (expect.textAfter) assert.match(where.text!.before.slice(0, where.text!.at), expect.textAfter);
    });
  }
});

describe('placement: bottom and not-a-reply', () => {
  it('placement bottom puts the block before </body> even in a reply', async () => {
    const input = readFileSync(`${FIX}/gmail.eml`);
    const { out, outcome } = await sign(input, { kind: 'sign', placement: 'bottom', blocks: { html: '<p>Sig</p>', text: 'Sig' } });
    assert.equal(outcome.signed, true);
    const s = out.toString('latin1');
    const html = s.slice(s.indexOf('Content-Type: text/html'));
    // gmail.eml's html has no </body>: the block goes at the very end of the part
    assert.match(html, /<\/blockquote><\/div>\r?\n<div id=3D"sigops-signature" data-sigops=3D"1">/);
  });

  it('a new message (no quote) gets the block at the end, before </body>', async () => {
    const msg = Buffer.from(
      'From: a@contoso.com\r\nTo: b@fabrikam.com\r\nSubject: hi\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello</p></body></html>\r\n',
    );
    const { out } = await sign(msg, { kind: 'sign', placement: 'reply', blocks: { html: '<p>Sig</p>', text: 'Sig' } });
    assert.match(out.toString(), /<p>Hello<\/p><div id="sigops-signature" data-sigops="1">\r\n<p>Sig<\/p>\r\n<\/div>\r\n<\/body><\/html>/);
  });

  it('plain text without a quote gets the delimiter and block at the end', async () => {
    const msg = Buffer.from('From: a@contoso.com\nSubject: hi\n\nHello Bob,\nsee you.\n');
    const { out } = await sign(msg, { kind: 'sign', placement: 'reply', blocks: { html: '<p>Sig</p>', text: 'Alice\nContoso' } });
    assert.equal(out.toString(), 'From: a@contoso.com\nSubject: hi\nX-Sigops-Processed: true\n\nHello Bob,\nsee you.\n-- \nAlice\nContoso\n');
  });
});

describe('never twice', () => {
  it('passes a message whose newest text already carries our block', async () => {
    const input = readFileSync(`${FIX}/already-signed.eml`);
    const { out, outcome } = await sign(input);
    assert.deepEqual(outcome, { signed: false, reason: 'already-signed' });
    verifyOutput(input, out, outcome);
  });

  it('recognises our text marker in a text-only message', async () => {
    const msg = Buffer.from('From: a@contoso.com\r\nSubject: x\r\n\r\nHello\r\n-- \r\nAlice Example | Sales Lead\r\nContoso\r\n');
    const { outcome } = await sign(msg);
    assert.equal(outcome.reason, 'already-signed');
  });

  it('signing its own output again is refused (X-Sigops-Processed), and without the header still only once', async () => {
    const input = readFileSync(`${FIX}/owa.eml`);
    const first = await sign(input);
    const again = await sign(first.out);
    assert.equal(again.outcome.reason, 'already-processed');
    assert.ok(again.out.equals(first.out));
    const stripped = Buffer.from(first.out.toString('latin1').replace('X-Sigops-Processed: true\r\n', ''), 'latin1');
    const third = await sign(stripped);
    assert.equal(third.outcome.reason, 'already-signed');
  });
});

describe('plain-text forwards and bottom-posting', () => {
  const text = (body: string): Buffer => Buffer.from(`From: a@contoso.com\nSubject: x\n\n${body}`);
  const blocks = { html: '', text: 'Alice' };
  it('a forward without new text gets the block above the forwarded message', async () => {
    const { out } = await sign(text('-----Original Message-----\n\nFrom: Bob\nSent: Monday\n\nold text\n'), { kind: 'sign', placement: 'reply', blocks });
    assert.match(out.toString(), /\n\n-- \nAlice\n\n-----Original Message-----\n/);
  });
  it('a bottom-posted reply (attribution, > lines, then new text) gets the block at the end', async () => {
    const { out } = await sign(text('On Mon, Bob wrote:\n> question?\n\nanswer.\n'), { kind: 'sign', placement: 'reply', blocks });
    assert.match(out.toString(), /> question\?\n\nanswer\.\n-- \nAlice\n$/);
  });
});

describe('HTML bottom-posting', () => {
  it('Thunderbird reply written under the quote gets the block after the new text', async () => {
    const html = '<html><body><div class="moz-cite-prefix">On 03/11/2025 09:58, Bob wrote:<br></div><blockquote type="cite"><p>question?</p><blockquote type="cite">older</blockquote></blockquote><p>answer.</p></body></html>';
    const input = Buffer.from(`From: a@contoso.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`);
    const { out } = await sign(input, { kind: 'sign', placement: 'reply', blocks: { html: '<p>Sig</p>', text: '' } });
    assert.match(out.toString(), /<p>answer\.<\/p><div id="sigops-signature" data-sigops="1">\r\n<p>Sig<\/p>\r\n<\/div>\r\n<\/body>/);
  });
});

describe('more HTML markers', () => {
  const html = (body: string): Buffer => Buffer.from(`From: a@contoso.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>${body}</body></html>\r\n`);
  const blocks = { html: '<p>Sig</p>', text: '' };
  const cases: Array<[string, string, RegExp]> = [
    ['Proton Mail', '<div>Sure.</div><div class="protonmail_quote">On Monday, Bob wrote:<br><blockquote class="protonmail_quote" type="cite">q</blockquote></div>', /<div>Sure\.<\/div><div id="sigops-signature"[^]*<\/div>\r\n<div class="protonmail_quote">/],
    ['Outlook 2003', '<div>Sure.</div><div><div class=OutlookMessageHeader lang=en-us dir=ltr align=left><font face=Tahoma size=2>-----Original Message-----<br><b>From:</b> Bob</font></div>q</div>', /<div>Sure\.<\/div><div id="sigops-signature"[^]*<\/div>\r\n<div><div class=OutlookMessageHeader/],
    ['Samsung / Android "Original message" line', '<div>Sure.</div><div><br></div><div>-------- Original message --------</div><div>From: Bob</div>', /<div><br><\/div><div id="sigops-signature"[^]*<\/div>\r\n<div>-------- Original message/],
  ];
  for (const [name, body, expect] of cases) {
    it(name, async () => {
      const { out } = await sign(html(body), { kind: 'sign', placement: 'reply', blocks });
      assert.match(out.toString(), expect);
    });
  }
});
