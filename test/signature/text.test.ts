import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntities, htmlToText } from '../../src/signature/index.ts';

test('table signature: one line per cell and row, images dropped, links as text <url>', () => {
  const html = `<table cellpadding="0"><tr>
    <td><img src="https://cdn.example.com/logo.png" alt="Logo"></td>
    <td><strong>Alice Example</strong><br>
      Sales Lead | Sales<br>
      T <a href="tel:+15550100">+1 555 0100</a><br>
      <a href="mailto:alice@contoso.com">alice@contoso.com</a> &middot; <a href="https://www.contoso.com/">www.contoso.com</a>
      <a href="https://www.contoso.com/winter?a=1&amp;b=2">See the offers</a>
    </td></tr></table>`;
  assert.equal(
    htmlToText(html),
    'Alice Example\nSales Lead | Sales\nT +1 555 0100\nalice@contoso.com · www.contoso.com See the offers <https://www.contoso.com/winter?a=1&b=2>',
  );
});

test('paragraphs are separated by a blank line; whitespace collapses like HTML', () => {
  assert.equal(htmlToText('<p>First   line\n  continues</p><p>Second</p>'), 'First line continues\n\nSecond');
  assert.equal(htmlToText('<div>a</div><div>b</div>'), 'a\nb');
  assert.equal(htmlToText('a<br><br>b'), 'a\n\nb');
  assert.equal(htmlToText('<ul><li>one</li><li>two</li></ul>'), '- one\n- two');
});

test('entities are decoded, hidden content and comments dropped', () => {
  assert.equal(htmlToText('&lt;script&gt; &amp; &quot;x&quot; &#39;y&#39; &#x263A; &copy; &szlig;&auml; &euro;&nbsp;&nbsp;1 &bogus;'), '<script> & "x" \'y\' ☺ © ßä €  1 &bogus;');
  assert.equal(htmlToText('<style>p{color:red}</style><!-- note -->Hi<script>alert(1)</script>'), 'Hi');
  assert.equal(decodeEntities('&#0; &#xD800; &#1114112;'), '\uFFFD \uFFFD \uFFFD');
});

test('links whose text already says the target get no <url>; javascript: links none at all', () => {
  assert.equal(htmlToText('<a href="https://example.com">https://example.com</a>'), 'https://example.com');
  assert.equal(htmlToText('<a href="mailto:a@b.example?subject=x">write to us</a>'), 'write to us <a@b.example>');
  assert.equal(htmlToText('<a href="javascript:alert(1)">click</a>'), 'click');
  assert.equal(htmlToText('<a href="https://x.example/p">  </a>'), '<https://x.example/p>');
});

test('malformed HTML never throws', () => {
  for (const s of ['<', '<a href="x', '<<<>>>', '<td', '</p></p></td>', 'a < b > c', '<!-- never closed', '<script>never closed']) {
    assert.equal(typeof htmlToText(s), 'string');
  }
  assert.equal(htmlToText('a < b'), 'a < b');
});
