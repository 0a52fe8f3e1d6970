// The words mail clients write where the quoted thread of a reply or forward begins, per
// language: the attribution ("On … wrote:"), the fields of a quoted header block ("From:",
// "Sent:", "To:", "Subject:"), separator lines ("-----Original Message-----") and forward intros
// ("Begin forwarded message:"). Each word is written here once, as data; the quote-header
// recogniser (header.ts) reads them as sets and regex alternatives over visible text (plain
// text, or HTML projected to text), and the few HTML-source markers of index.ts use the HTML
// form (where a letter may also come as a character reference, `&eacute;` or `&#233;`). To
// teach placement a language or a client's wording, add its words here.

/** The words of one language (or one client's wording in it). Every list is optional. */
export interface QuoteWords {
  /** Opening words of an attribution line: "On" in "On 3 May 2026, Bob <bob@…> wrote:". */
  readonly attributionLeads?: readonly string[];
  /** The verb of an attribution, at its end or before the name: "wrote", "schrieb", "写道". */
  readonly attributionVerbs?: readonly string[];
  /** How the second line of an attribution wrapped inside its verb begins (Gmail breaks "a écrit" after "a"). */
  readonly attributionVerbTails?: readonly string[];
  /** The "From:" field of the quoted message's header block. */
  readonly from?: readonly string[];
  /** Its "Sent:" / "Date:" field. */
  readonly sent?: readonly string[];
  /** Its "To:" field. */
  readonly to?: readonly string[];
  /** Its "Cc:" field. */
  readonly cc?: readonly string[];
  /** Its "Subject:" field. */
  readonly subject?: readonly string[];
  /** Between dashes on a separator line: "-----Original Message-----". */
  readonly separators?: readonly string[];
  /** A line of its own before a forwarded message, ending in a colon. */
  readonly forwardIntros?: readonly string[];
}

export type QuoteWordKind = keyof QuoteWords;

/**
 * One entry per language (BCP 47), from the words Outlook, Gmail, Apple Mail, Thunderbird,
 * Yahoo, Yandex, Mail.ru, GMX/Web.de, Zimbra, Proton and the phone clients write in it. A word
 * may appear under several languages (French and English both write "Date:"); the lists are
 * merged without duplicates. A space inside a word matches any run of white space (and `&nbsp;`
 * in HTML). Case does not matter.
 */
export const QUOTE_WORDS: Readonly<Record<string, QuoteWords>> = {
  en: {
    attributionLeads: ['On', 'In a message dated'],
    attributionVerbs: ['wrote', 'writes'],
    from: ['From', 'Sender'],
    sent: ['Sent', 'Date', 'Sent on', 'Sent date'],
    to: ['To', 'Recipient'],
    cc: ['Cc', 'Bcc'],
    subject: ['Subject'],
    separators: ['Original Message', 'Forwarded message', 'Forwarded', 'Forwarded by', 'Reply message', 'Original Appointment', 'Message from'],
    forwardIntros: ['Begin forwarded message', 'Forwarded message', 'Start of forwarded message'],
  },
  de: {
    attributionLeads: ['Am'],
    attributionVerbs: ['schrieb', 'schreibt', 'hat geschrieben', 'Folgendes geschrieben'],
    from: ['Von', 'Absender'],
    sent: ['Gesendet', 'Datum', 'Gesendet am'],
    to: ['An', 'Empfänger'],
    cc: ['Kopie', 'Cc'],
    subject: ['Betreff'],
    separators: ['Ursprüngliche Nachricht', 'Ursprungliche Nachricht', 'Ursprüngliche Mail', 'Original-Nachricht', 'Originalnachricht', 'Weitergeleitete Nachricht', 'Weitergeleitete E-Mail'],
    forwardIntros: ['Anfang der weitergeleiteten Nachricht', 'Anfang der weitergeleiteten E-Mail'],
  },
  fr: {
    attributionLeads: ['Le'],
    attributionVerbs: ['a écrit', 'écrit', 'a ecrit'],
    attributionVerbTails: ['écrit'],
    from: ['De', 'Expéditeur'],
    sent: ['Envoyé', 'Date', 'Envoyé le'],
    to: ['À', 'A', 'Pour', 'Destinataire'],
    cc: ['Cc', 'Copie'],
    subject: ['Objet', 'Sujet'],
    separators: ["Message d'origine", 'Mail original', 'Message original', 'Message transféré', 'Courriel original', 'Message réexpédié'],
    forwardIntros: ['Début du message réexpédié', 'Début du message transféré', 'Message transféré'],
  },
  es: {
    attributionLeads: ['El'],
    attributionVerbs: ['escribió', 'escribio'],
    from: ['De', 'Remitente'],
    sent: ['Enviado', 'Fecha', 'Enviado el', 'Enviada', 'Enviada el'],
    to: ['Para', 'Destinatario'],
    cc: ['CC', 'CCO'],
    subject: ['Asunto'],
    separators: ['Mensaje original', 'Mensaje reenviado'],
    forwardIntros: ['Inicio del mensaje reenviado', 'Comienzo del mensaje reenviado'],
  },
  pt: {
    attributionLeads: ['Em', 'No dia'],
    attributionVerbs: ['escreveu'],
    from: ['De', 'Remetente'],
    sent: ['Enviado', 'Enviada', 'Data', 'Enviado em', 'Enviada em', 'Enviado a'],
    to: ['Para', 'Destinatário'],
    cc: ['Cc', 'Com cópia'],
    subject: ['Assunto'],
    separators: ['Mensagem original', 'Mensagem encaminhada', 'Mensagem reencaminhada'],
    forwardIntros: ['Início da mensagem reencaminhada', 'Início da mensagem encaminhada', 'Começo da mensagem encaminhada', 'Mensagem encaminhada'],
  },
  it: {
    attributionLeads: ['Il', 'Il giorno', 'In data'],
    attributionVerbs: ['ha scritto', 'scritto', 'scrisse'],
    from: ['Da', 'Mittente'],
    sent: ['Inviato', 'Data', 'Inviato il', 'Inviata'],
    to: ['A', 'Destinatario'],
    cc: ['Cc', 'Copia'],
    subject: ['Oggetto'],
    separators: ['Messaggio originale', 'Messaggio inoltrato'],
    forwardIntros: ['Inizio messaggio inoltrato', 'Messaggio inoltrato'],
  },
  nl: {
    attributionLeads: ['Op'],
    attributionVerbs: ['schreef', 'geschreven', 'het volgende geschreven'],
    from: ['Van', 'Afzender'],
    sent: ['Verzonden', 'Datum', 'Verzonden op', 'Verstuurd'],
    to: ['Aan', 'Geadresseerde'],
    cc: ['CC'],
    subject: ['Onderwerp'],
    separators: ['Oorspronkelijk bericht', 'Origineel bericht', 'Doorgestuurd bericht', 'Oorspronklike boodskap'],
    forwardIntros: ['Begin doorgestuurd bericht', 'Doorgestuurd bericht'],
  },
  sv: {
    attributionLeads: ['Den', 'På'],
    attributionVerbs: ['skrev'],
    from: ['Från', 'Avsändare'],
    sent: ['Skickat', 'Datum', 'Skickades', 'Skickat den'],
    to: ['Till', 'Mottagare'],
    cc: ['Kopia'],
    subject: ['Ämne'],
    separators: ['Ursprungligt meddelande', 'Originalmeddelande', 'Vidarebefordrat meddelande'],
    forwardIntros: ['Vidarebefordrat mejl', 'Vidarebefordrat brev', 'Början av vidarebefordrat meddelande'],
  },
  da: {
    attributionLeads: ['Den'],
    attributionVerbs: ['skrev'],
    from: ['Fra', 'Afsender'],
    sent: ['Sendt', 'Dato'],
    to: ['Til', 'Modtager'],
    cc: ['Cc', 'Kopi'],
    subject: ['Emne'],
    separators: ['Oprindelig meddelelse', 'Original meddelelse', 'Videresendt meddelelse', 'Oprindelig besked'],
    forwardIntros: ['Start på videresendt meddelelse', 'Videresendt besked', 'Videresendt meddelelse'],
  },
  no: {
    attributionLeads: ['Den', 'På'],
    attributionVerbs: ['skrev', 'skreiv'],
    from: ['Fra', 'Avsender'],
    sent: ['Sendt', 'Dato'],
    to: ['Til', 'Mottaker'],
    cc: ['Kopi'],
    subject: ['Emne'],
    separators: ['Opprinnelig melding', 'Original melding', 'Videresendt melding', 'Opprinnelig e-post'],
    forwardIntros: ['Videresendt melding', 'Start på videresendt melding'],
  },
  fi: {
    attributionVerbs: ['kirjoitti'],
    from: ['Lähettäjä'],
    sent: ['Lähetetty', 'Päivämäärä', 'Päiväys'],
    to: ['Vastaanottaja', 'Saaja'],
    cc: ['Kopio'],
    subject: ['Aihe'],
    separators: ['Alkuperäinen viesti', 'Välitetty viesti'],
    forwardIntros: ['Välitetty viesti alkaa', 'Välitetty viesti'],
  },
  pl: {
    attributionLeads: ['W dniu', 'Dnia'],
    attributionVerbs: ['napisał', 'napisała', 'pisze', 'napisał(a)'],
    from: ['Od', 'Nadawca'],
    sent: ['Wysłano', 'Data', 'Wysłane', 'Wysłany'],
    to: ['Do', 'Adresat'],
    cc: ['DW', 'Kopia'],
    subject: ['Temat'],
    separators: ['Wiadomość oryginalna', 'Oryginalna wiadomość', 'Przekazana wiadomość', 'Wiadomość przekazana dalej'],
    forwardIntros: ['Początek przekazywanej wiadomości', 'Początek przekazanej wiadomości'],
  },
  ru: {
    attributionLeads: ['В'],
    attributionVerbs: ['написал', 'написала', 'пишет', 'написал(а)'],
    from: ['От', 'Отправитель'],
    sent: ['Отправлено', 'Дата', 'Отправлен'],
    to: ['Кому', 'Получатель'],
    cc: ['Копия'],
    subject: ['Тема'],
    separators: ['Исходное сообщение', 'Перенаправленное сообщение', 'Пересылаемое сообщение', 'Оригинальное сообщение', 'Пересланное сообщение', 'Конец пересылаемого сообщения'],
    forwardIntros: ['Начало пересылаемого сообщения', 'Пересылаемое сообщение'],
  },
  uk: {
    attributionLeads: ['У', 'В'],
    attributionVerbs: ['написав', 'написала', 'пише', 'написав(ла)'],
    from: ['Від', 'Відправник'],
    sent: ['Надіслано', 'Дата', 'Відправлено'],
    to: ['Кому', 'Отримувач'],
    cc: ['Копія'],
    subject: ['Тема'],
    separators: ['Вихідне повідомлення', 'Оригінальне повідомлення', 'Переслане повідомлення', 'Початкове повідомлення'],
    forwardIntros: ['Початок пересланого повідомлення'],
  },
  cs: {
    attributionLeads: ['Dne'],
    attributionVerbs: ['napsal', 'napsala', 'napsal(a)', 'píše'],
    from: ['Od', 'Odesílatel'],
    sent: ['Odesláno', 'Datum'],
    to: ['Komu', 'Příjemce'],
    cc: ['Kopie'],
    subject: ['Předmět'],
    separators: ['Původní zpráva', 'Přeposlaná zpráva', 'Původní e-mail'],
    forwardIntros: ['Začátek přeposlané zprávy'],
  },
  sk: {
    attributionLeads: ['Dňa'],
    attributionVerbs: ['napísal', 'napísala', 'napísal(a)', 'píše'],
    from: ['Od', 'Odosielateľ'],
    sent: ['Odoslané', 'Dátum'],
    to: ['Komu', 'Príjemca'],
    cc: ['Kópia'],
    subject: ['Predmet'],
    separators: ['Pôvodná správa', 'Preposlaná správa'],
    forwardIntros: ['Začiatok preposlanej správy'],
  },
  hu: {
    attributionVerbs: ['írta', 'ezt írta'],
    from: ['Feladó', 'Küldő'],
    sent: ['Elküldve', 'Küldve', 'Dátum', 'Elküldés ideje'],
    to: ['Címzett'],
    cc: ['Másolatot kap', 'Másolat'],
    subject: ['Tárgy'],
    separators: ['Eredeti üzenet', 'Továbbított üzenet'],
    forwardIntros: ['Továbbított levél kezdete', 'Továbbított üzenet'],
  },
  tr: {
    attributionVerbs: ['yazdı', 'şunu yazdı', 'tarihinde şunu yazdı'],
    from: ['Kimden', 'Gönderen'],
    sent: ['Gönderildi', 'Gönderim', 'Tarih', 'Gönderilme'],
    to: ['Kime', 'Alıcı'],
    cc: ['Bilgi', 'Cc'],
    subject: ['Konu'],
    separators: ['Orijinal Mesaj', 'Özgün ileti', 'İletilen ileti', 'Orijinal ileti', 'İletilen Mesaj'],
    forwardIntros: ['İletilen ileti başlangıcı', 'İletilen mesajın başlangıcı'],
  },
  ro: {
    attributionLeads: ['Pe', 'În data de'],
    attributionVerbs: ['a scris'],
    from: ['De la', 'Expeditor'],
    sent: ['Trimis', 'Data', 'Dată'],
    to: ['Către', 'Catre', 'Destinatar'],
    cc: ['Cc'],
    subject: ['Subiect'],
    separators: ['Mesaj original', 'Mesaj redirecționat', 'Mesaj redirectionat', 'Mesaj transmis'],
    forwardIntros: ['Început mesaj redirecționat', 'Începutul mesajului redirecționat'],
  },
  el: {
    attributionLeads: ['Στις', 'Την'],
    attributionVerbs: ['έγραψε'],
    from: ['Από', 'Αποστολέας'],
    sent: ['Στάλθηκε', 'Ημερομηνία', 'Εστάλη'],
    to: ['Προς', 'Παραλήπτης'],
    cc: ['Κοιν', 'Κοιν.'],
    subject: ['Θέμα'],
    separators: ['Αρχικό μήνυμα', 'Προωθημένο μήνυμα'],
    forwardIntros: ['Έναρξη προωθημένου μηνύματος'],
  },
  bg: {
    attributionVerbs: ['написа'],
    from: ['От', 'Подател'],
    sent: ['Изпратено', 'Дата'],
    to: ['До', 'Получател'],
    cc: ['Копие'],
    subject: ['Относно', 'Тема'],
    separators: ['Оригинално съобщение', 'Препратено съобщение', 'Оригинално писмо'],
  },
  hr: {
    attributionVerbs: ['je napisao', 'je napisala', 'napisao', 'napisala', 'napisao/la je', 'написао', 'написала'],
    from: ['Šalje', 'Od', 'Pošiljatelj', 'Pošiljalac', 'Шаље', 'Од'],
    sent: ['Poslano', 'Poslato', 'Datum', 'Послато', 'Датум'],
    to: ['Prima', 'Za', 'Primatelj', 'Прима', 'За'],
    cc: ['Kopija', 'Копија'],
    subject: ['Predmet', 'Tema', 'Предмет'],
    separators: ['Izvorna poruka', 'Originalna poruka', 'Proslijeđena poruka', 'Prosleđena poruka', 'Оригинална порука'],
  },
  sl: {
    attributionVerbs: ['je napisal', 'je napisala', 'napisal', 'napisala'],
    from: ['Od', 'Pošiljatelj'],
    sent: ['Poslano', 'Datum'],
    to: ['Za', 'Prejemnik'],
    cc: ['Kp', 'Kopija'],
    subject: ['Zadeva'],
    separators: ['Izvirno sporočilo', 'Originalno sporočilo', 'Posredovano sporočilo'],
  },
  lt: {
    attributionVerbs: ['rašė', 'parašė'],
    from: ['Nuo', 'Siuntėjas'],
    sent: ['Išsiųsta', 'Data'],
    to: ['Kam', 'Gavėjas'],
    cc: ['Kopija'],
    subject: ['Tema'],
    separators: ['Originalus laiškas', 'Pradinis laiškas', 'Persiųstas laiškas'],
  },
  lv: {
    attributionVerbs: ['rakstīja'],
    from: ['Sūtītājs'],
    sent: ['Nosūtīts', 'Datums'],
    to: ['Kam', 'Adresāts'],
    cc: ['Kopija'],
    subject: ['Tēma'],
    separators: ['Sākotnējā ziņa', 'Oriģinālā ziņa', 'Pārsūtīta ziņa'],
  },
  et: {
    attributionVerbs: ['kirjutas'],
    from: ['Saatja', 'Kellelt'],
    sent: ['Saadetud', 'Kuupäev'],
    to: ['Adressaat', 'Saaja', 'Kellele'],
    cc: ['Koopia'],
    subject: ['Teema'],
    separators: ['Algne sõnum', 'Edastatud sõnum'],
  },
  ca: {
    attributionLeads: ['El'],
    attributionVerbs: ['va escriure', 'escrigué'],
    from: ['De'],
    sent: ['Enviat', 'Data', 'Enviat el'],
    to: ['Per a', 'A'],
    cc: ['A/c', 'Cc'],
    subject: ['Assumpte'],
    separators: ['Missatge original', 'Missatge reenviat'],
  },
  ja: {
    attributionVerbs: ['書きました', 'のメッセージ', '書き込みました', 'さんは書きました', 'wrote'],
    from: ['差出人', '送信者'],
    sent: ['送信日時', '日付', '送信日'],
    to: ['宛先', '受信者'],
    cc: ['CC'],
    subject: ['件名'],
    separators: ['元のメッセージ', '転送されたメッセージ', 'Original Message'],
    forwardIntros: ['転送されたメッセージ', '転送メッセージの開始'],
  },
  'zh-Hans': {
    attributionLeads: ['在'],
    attributionVerbs: ['写道'],
    from: ['发件人', '发信人'],
    sent: ['发送时间', '日期', '时间', '发送日期'],
    to: ['收件人'],
    cc: ['抄送'],
    subject: ['主题'],
    separators: ['原始邮件', '转发的邮件', '原始消息', '转发邮件'],
    forwardIntros: ['以下为转发的邮件', '转发的邮件'],
  },
  'zh-Hant': {
    attributionLeads: ['在'],
    attributionVerbs: ['寫道'],
    from: ['寄件者', '寄件人'],
    sent: ['寄件日期', '傳送時間', '日期', '傳送日期'],
    to: ['收件者', '收件人'],
    cc: ['副本'],
    subject: ['主旨'],
    separators: ['原始郵件', '轉寄的郵件', '原始訊息', '轉寄郵件'],
  },
  ko: {
    attributionVerbs: ['작성', '님이 작성', '작성함', '씀', '님이 씀'],
    from: ['보낸 사람', '보낸사람', '발신자', '발신'],
    sent: ['보낸 날짜', '날짜', '보낸날짜'],
    to: ['받는 사람', '받는사람', '수신자', '수신'],
    cc: ['참조'],
    subject: ['제목'],
    separators: ['원본 메시지', '전달된 메시지', '원본 메일'],
    forwardIntros: ['전달된 메시지 시작'],
  },
  ar: {
    attributionLeads: ['في'],
    attributionVerbs: ['كتب', 'كتبت'],
    from: ['من', 'المرسل'],
    sent: ['تاريخ الإرسال', 'أرسلت', 'التاريخ', 'تم الإرسال'],
    to: ['إلى', 'الى'],
    cc: ['نسخة'],
    subject: ['الموضوع'],
    separators: ['الرسالة الأصلية', 'رسالة معاد توجيهها', 'الرسالة المعاد توجيهها'],
  },
  he: {
    attributionLeads: ['ב'],
    attributionVerbs: ['כתב', 'כתבה', 'כתב/ה'],
    from: ['מאת', 'השולח'],
    sent: ['נשלח', 'תאריך'],
    to: ['אל'],
    cc: ['עותק'],
    subject: ['נושא'],
    separators: ['הודעה מקורית', 'הודעה שהועברה', 'הודעה מועברת'],
  },
  id: {
    attributionLeads: ['Pada'],
    attributionVerbs: ['menulis'],
    from: ['Dari', 'Pengirim'],
    sent: ['Dikirim', 'Tanggal', 'Terkirim'],
    to: ['Kepada', 'Ke'],
    cc: ['Cc', 'Tembusan'],
    subject: ['Subjek', 'Perihal', 'Hal'],
    separators: ['Pesan Asli', 'Pesan yang diteruskan', 'Pesan Diteruskan'],
  },
  vi: {
    attributionLeads: ['Vào'],
    attributionVerbs: ['đã viết', 'viết'],
    from: ['Từ', 'Người gửi'],
    sent: ['Đã gửi', 'Ngày', 'Gửi', 'Thời gian'],
    to: ['Đến', 'Tới', 'Người nhận'],
    cc: ['Cc'],
    subject: ['Chủ đề', 'Tiêu đề'],
    separators: ['Thư gốc', 'Tin nhắn gốc', 'Thư chuyển tiếp', 'Thư đã chuyển tiếp'],
  },
  th: {
    attributionVerbs: ['เขียน', 'เขียนว่า'],
    from: ['จาก', 'ผู้ส่ง'],
    sent: ['ส่ง', 'วันที่', 'ส่งเมื่อ'],
    to: ['ถึง', 'ผู้รับ'],
    cc: ['สำเนา'],
    subject: ['เรื่อง', 'หัวเรื่อง'],
    separators: ['ข้อความต้นฉบับ', 'ข้อความที่ส่งต่อ'],
  },
  hi: {
    attributionVerbs: ['ने लिखा', 'लिखा'],
    from: ['प्रेषक', 'से'],
    sent: ['भेजा गया', 'दिनांक', 'तारीख'],
    to: ['प्रति', 'को'],
    subject: ['विषय'],
    separators: ['मूल संदेश', 'अग्रेषित संदेश'],
  },
  fa: {
    attributionVerbs: ['نوشت'],
    from: ['از', 'فرستنده'],
    sent: ['ارسال شده', 'تاریخ'],
    to: ['به', 'گیرنده'],
    subject: ['موضوع'],
    separators: ['پیام اصلی', 'پیام ارسال شده'],
  },
  is: {
    attributionVerbs: ['skrifaði'],
    from: ['Frá', 'Sendandi'],
    sent: ['Sent', 'Dagsetning'],
    to: ['Til', 'Viðtakandi'],
    subject: ['Efni'],
    separators: ['Upprunaleg skilaboð', 'Framsend skilaboð'],
  },
  ms: {
    attributionVerbs: ['menulis'],
    from: ['Daripada'],
    sent: ['Dihantar', 'Tarikh'],
    to: ['Kepada'],
    subject: ['Subjek', 'Perkara'],
    separators: ['Mesej Asal', 'Mesej dimajukan'],
  },
  gl: {
    attributionVerbs: ['escribiu'],
    from: ['De'],
    sent: ['Enviado', 'Data'],
    to: ['Para'],
    subject: ['Asunto'],
    separators: ['Mensaxe orixinal'],
  },
};

/**
 * Every word of one kind, all languages merged (or only those of `languages`), without
 * duplicates, longest first.
 */
export function quoteWords(kind: QuoteWordKind, languages?: readonly string[]): string[] {
  const words = new Set<string>();
  for (const [tag, language] of Object.entries(QUOTE_WORDS)) {
    if (languages && !languages.includes(tag)) continue;
    for (const w of language[kind] ?? []) words.add(w);
  }
  // longest first: an alternation tries its branches in order
  return [...words].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}

/** Escapes what is special outside a character class (and nothing else, so the result also works with the `u` flag). */
const escapeRe = (s: string): string => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');

/**
 * A regex alternative group `(?:…|…)` matching any of `words` in plain text. For regexes with
 * the `i` flag (every quote regex is case-insensitive).
 */
export function textAlternatives(words: readonly string[]): string {
  return `(?:${words.map(textWord).join('|')})`;
}

/** One word as a regex source for plain text (a space matches any run of white space). */
export function textWord(word: string): string {
  let out = '';
  for (const ch of word) {
    if (/\s/.test(ch)) {
      if (!out.endsWith('\\s+')) out += '\\s+';
    } else out += escapeRe(ch);
  }
  return out;
}

/**
 * The same group for HTML source: a non-ASCII letter may also be written as a named entity
 * (Latin-1 letters: `&eacute;`) or a numeric character reference (`&#233;`, `&#xE9;`), a space
 * as `&nbsp;`, an apostrophe as `&#39;`. For regexes with the `i` flag.
 */
export function htmlAlternatives(words: readonly string[]): string {
  return `(?:${words.map(htmlWord).join('|')})`;
}

const HTML_SPACE = String.raw`(?:\s|&nbsp;|&#0*160;|&#x0*a0;)+`;
const HTML_APOSTROPHE = String.raw`(?:'|&apos;|&#0*39;|&#x0*27;)`;

function htmlWord(word: string): string {
  let out = '';
  for (const ch of word) {
    if (/\s/.test(ch)) {
      if (!out.endsWith(HTML_SPACE)) out += HTML_SPACE;
    } else if (ch === "'") out += HTML_APOSTROPHE;
    else if (ch.codePointAt(0)! < 0x80) out += escapeRe(ch);
    else out += htmlLetter(ch);
  }
  return out;
}

/**
 * HTML 4 names of the Latin-1 letters U+00DF…U+00FF (lower case; U+00F7 ÷ is not a letter).
 * The upper-case letters have the same names capitalised, which a case-insensitive regex
 * matches already.
 */
const LATIN1_NAMES = [
  'szlig',
  'agrave', 'aacute', 'acirc', 'atilde', 'auml', 'aring', 'aelig', 'ccedil',
  'egrave', 'eacute', 'ecirc', 'euml', 'igrave', 'iacute', 'icirc', 'iuml',
  'eth', 'ntilde', 'ograve', 'oacute', 'ocirc', 'otilde', 'ouml', '',
  'oslash', 'ugrave', 'uacute', 'ucirc', 'uuml', 'yacute', 'thorn', 'yuml',
];

/** The entity name of a Latin-1 letter, or undefined. */
export function latin1EntityName(ch: string): string | undefined {
  const code = ch.toLowerCase().codePointAt(0)!;
  const name = code >= 0xdf && code <= 0xff ? LATIN1_NAMES[code - 0xdf] : undefined;
  return name || undefined;
}

/** One letter, or any reference to it (or, as the regex ignores case, to its other case). */
function htmlLetter(ch: string): string {
  const cases = [...new Set([ch, ch.toLowerCase(), ch.toUpperCase()])].filter((c) => [...c].length === 1);
  const codes = cases.map((c) => c.codePointAt(0)!);
  const name = latin1EntityName(ch);
  const group = (xs: string[]): string => (xs.length === 1 ? xs[0]! : `(?:${xs.join('|')})`);
  return `(?:${escapeRe(ch)}${name ? `|&${name};` : ''}|&#0*${group(codes.map(String))};|&#x0*${group(codes.map((c) => c.toString(16)))};)`;
}
