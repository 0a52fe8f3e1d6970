// The quote words (src/mime/placement/words.ts): each list once, as text and as HTML alternatives
// (entity forms generated), and placement recognising every word in both kinds of part.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findHtmlQuote, placeInText } from '../../src/mime/placement/index.ts';
import { htmlAlternatives, latin1EntityName, quoteWords, textAlternatives } from '../../src/mime/placement/words.ts';

const whole = (group: string): RegExp => new RegExp(`^${group}$`, 'i');

describe('quote words', () => {
  it('hold every word the placement regexes knew before they were merged', () => {
    const before: Record<string, string[]> = {
      attributionLeads: ['On', 'Am', 'Le', 'El', 'Il', 'Op', 'Den', 'W dniu'],
      attributionVerbs: ['wrote', 'schrieb', 'a écrit', 'escribió', 'ha scritto', 'schreef', 'skrev', 'napisał'],
      from: ['From', 'Von', 'De', 'Da', 'Van', 'Fra', 'Från', 'Od', 'От', 'Від', 'Kimden', 'Feladó', 'Lähettäjä', '差出人', '发件人', '寄件者', '보낸 사람'],
      sent: ['Sent', 'Date', 'Gesendet', 'Datum', 'Envoyé', 'Enviado', 'Fecha', 'Inviato', 'Data', 'Verzonden', 'Skickat', 'Sendt', 'Wysłano', 'Отправлено', 'Gönderildi', 'Lähetetty', '送信日時', '发送时间', '日期', '寄件日期'],
      separators: ['Original Message', 'Ursprüngliche Nachricht', 'Ursprungliche Nachricht', 'Original-Nachricht', "Message d'origine", 'Forwarded message', 'Mensaje original', 'Messaggio originale', 'Message transféré'],
      forwardIntros: ['Begin forwarded message', 'Anfang der weitergeleiteten Nachricht', 'Début du message réexpédié'],
    };
    for (const [kind, words] of Object.entries(before)) {
      const list = quoteWords(kind as Parameters<typeof quoteWords>[0]);
      const text = whole(textAlternatives(list));
      const html = whole(htmlAlternatives(list));
      for (const w of words) {
        assert.ok(text.test(w), `${kind} text: ${w}`);
        assert.ok(html.test(w), `${kind} html: ${w}`);
      }
    }
  });

  it('lists each word once, longest first', () => {
    const from = quoteWords('from');
    assert.equal(new Set(from).size, from.length);
    assert.ok(from.indexOf('Lähettäjä') < from.indexOf('De'));
    assert.equal(quoteWords('sent').filter((w) => w === 'Data').length, 1);
  });

  it('accepts white space runs in text, and &nbsp; between words in HTML', () => {
    assert.ok(whole(textAlternatives(['W dniu'])).test('W \t dniu'));
    assert.ok(whole(htmlAlternatives(['W dniu'])).test('W&nbsp;dniu'));
    assert.ok(whole(htmlAlternatives(['a écrit'])).test('a&#160;&eacute;crit'));
    assert.ok(!whole(textAlternatives(['a écrit'])).test('a&nbsp;écrit'));
  });

  it('generates the named and numeric references of non-ASCII letters for HTML', () => {
    const fr = whole(htmlAlternatives(['Envoyé']));
    for (const s of ['Envoyé', 'ENVOYÉ', 'Envoy&eacute;', 'Envoy&Eacute;', 'Envoy&#233;', 'Envoy&#0233;', 'Envoy&#xe9;', 'Envoy&#XE9;', 'Envoy&#201;', 'Envoy&#xC9;']) {
      assert.ok(fr.test(s), s);
    }
    assert.ok(!fr.test('Envoy&egrave;'));
    assert.ok(!fr.test('Envoy&#232;'));
    assert.ok(whole(htmlAlternatives(['Från'])).test('Fr&aring;n'));
    assert.ok(whole(htmlAlternatives(['Ursprüngliche'])).test('Urspr&uuml;ngliche'));
    assert.ok(whole(htmlAlternatives(['napisał'])).test('napisa&#322;'));
    assert.ok(whole(htmlAlternatives(['napisał'])).test('napisa&#x142;'));
    assert.ok(whole(htmlAlternatives(['От'])).test('&#1054;&#x442;'));
    assert.ok(whole(htmlAlternatives(['差出人'])).test('&#24046;出&#x4eba;'));
    assert.ok(whole(htmlAlternatives(["Message d'origine"])).test('Message d&#39;origine'));
  });

  it('names the Latin-1 letters only', () => {
    assert.equal(latin1EntityName('é'), 'eacute');
    assert.equal(latin1EntityName('É'), 'eacute');
    assert.equal(latin1EntityName('ß'), 'szlig');
    assert.equal(latin1EntityName('ÿ'), 'yuml');
    assert.equal(latin1EntityName('÷'), undefined);
    assert.equal(latin1EntityName('ł'), undefined);
    assert.equal(latin1EntityName('a'), undefined);
  });
});

describe('placement uses every quote word in HTML and in text', () => {
  // as real clients write it: the sender with an address (a bold From:/Date: without address or
  // Subject is an itinerary in the newest text, test/fixtures/placement/negatives)
  const boldHeader = (from: string, sent: string): string =>
    `<html><body><p>New text</p><p><b>${from}:</b> Bob &lt;bob@fabrikam.com&gt;<br><b>${sent}:</b> Monday</p><p>old</p></body></html>`;

  it('a bold From/Sent header in any language the border-top header knows', () => {
    for (const [from, sent] of [['From', 'Sent'], ['Felad&oacute;', 'Date'], ['Kimden', 'G&ouml;nderildi'], ['L&auml;hett&auml;j&auml;', 'L&auml;hetetty'], ['差出人', '送信日時'], ['Od', 'Data']]) {
      const html = boldHeader(from!, sent!);
      const hit = findHtmlQuote(html);
      assert.equal(hit?.marker, 'bold-from-sent', from);
      assert.equal(html.slice(hit!.index).startsWith('<p><b>'), true, from);
    }
  });

  it('a border-top header written with entities', () => {
    const html = '<html><body><p>New</p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>Fr&aring;n:</b> Bob</p></div></body></html>';
    assert.equal(findHtmlQuote(html)?.marker, 'border-top-header');
  });

  it('the separators of text parts in HTML too', () => {
    const html = '<html><body><p>New</p><p>-----Message transf&eacute;r&eacute;-----</p><p>old</p></body></html>';
    const hit = findHtmlQuote(html);
    assert.equal(hit?.marker, 'original-message');
    assert.ok(html.slice(hit!.index).startsWith('<p>-----Message'));
  });

  it('a text From/Sent block in Hungarian and Ukrainian', () => {
    for (const from of ['Feladó', 'Від']) {
      const text = `New text\n\n${from}: Bob\nSent: Monday\n\nold\n`;
      const spot = placeInText(text, 'reply');
      assert.equal(spot.marker, 'from-sent-block', from);
      assert.equal(text.slice(spot.index).startsWith(from), true);
    }
  });
});
