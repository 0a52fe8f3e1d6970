// The body taken from the signed copy for Graph: HTML over plain text, transfer encoding and
// charset decoded, attachments never taken for the body.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageBody } from '../../src/sent-items/index.ts';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

describe('messageBody', () => {
  it('takes the HTML alternative, decoded from quoted-printable', () => {
    const raw = crlf(['Content-Type: multipart/alternative; boundary=x', '', '--x', 'Content-Type: text/plain', '', 'plain', '--x', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', '<p>Gr=C3=BC=C3=9Fe</p>', '--x--', '']);
    assert.deepEqual(messageBody(raw), { contentType: 'html', content: '<p>Grüße</p>' });
  });

  it('takes the text of a mixed message, not its attachment, decoded from base64 in its charset', () => {
    const b64 = Buffer.from('Gr\xfc\xdfe', 'latin1').toString('base64');
    const raw = crlf(['Content-Type: multipart/mixed; boundary="m"', '', 'preamble', '--m', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: base64', '', b64, '--m', 'Content-Type: text/html', 'Content-Disposition: attachment; filename=a.html', '', '<p>file</p>', '--m--', '']);
    assert.deepEqual(messageBody(raw), { contentType: 'text', content: 'Grüße' });
  });

  it('finds the HTML inside related inside mixed, with bare LF line ends', () => {
    const raw = Buffer.from(['Content-Type: multipart/mixed; boundary=a', '', '--a', 'Content-Type: multipart/related; boundary=b', '', '--b', 'Content-Type: text/html', '', '<p>hi</p>', '--b', 'Content-Type: image/png', '', 'xx', '--b--', '--a--', ''].join('\n'));
    assert.deepEqual(messageBody(raw), { contentType: 'html', content: '<p>hi</p>' });
  });

  it('has no body for a message without text', () => {
    assert.equal(messageBody(crlf(['Content-Type: image/png', '', 'xx'])), undefined);
  });
});
