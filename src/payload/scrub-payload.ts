// A delivered payload made fit to commit as a test fixture: phones, emails, people's names and
// what was said are replaced with fakes. Within one scrub the same value always gets the same
// fake (a phone in `customer_phone` and `lead.phone_number` stays one number, a name in the
// summary stays the name in `input_variables`), so a mapping's lookups and conditions behave
// as they did. Structure, ids, statuses, timestamps, URLs, numbers and booleans are kept, so
// the fixture still passes the payload schema.
import { replaceContacts, type ContactReplacer } from '../masking.js';
import { speakerOfLabel } from './normalize.js';

/**
 * Values kept as they are: ids, states, times and links carry no person and tests pin them; the
 * assistant's phone is the team's own line, and mappings match on it.
 */
const KEEP_KEY = /^(?:id|type|sender|event|status|variant|assistant_phone)$|_id$|_at$|_url$|_time$|^allowed_days$/i;
/** The open variable records of a call and its lead. */
const VARIABLES_KEY = /^(?:extracted_variables|input_variables|variables)$/;
/** Inside variables: a person's (or their company's) name. */
const NAME_KEY = /name/i;
/** Inside variables: free text an assistant wrote about the call. */
const FREE_TEXT_KEY = /summary|notes?$|comment|description|feedback|message|pain_?points|reason/i;
/** A transcript as one string, and the sender's formatted copy of the turns. */
const SPEECH_KEY = /^(?:transcript|formatted_transcript)$/;
/** What was said in one transcript turn: a call turn's `text`, a chat message's `content`. */
const TURN_TEXT_KEY = /^(?:text|content)$/;
/** A chat's customer name, outside the variables (from the widget's pre-chat form). */
const PERSON_KEY = /^customer_name$/;
const WORD = /\p{L}+/gu;
/** Stands for a found phone or email while the text around it is rewritten (neither letter nor digit). */
const HOLE = '\uE000';

const FIRST_NAMES = ['Alex', 'Blair', 'Casey', 'Devon', 'Emery', 'Finley', 'Gray', 'Harper', 'Jules', 'Kendall', 'Logan', 'Morgan', 'Quinn', 'Reese', 'Sage', 'Taylor'];
const LAST_NAMES = ['Sample', 'Example', 'Tester', 'Demo', 'Placeholder', 'Fixture', 'Mockingbird', 'Specimen', 'Dummy', 'Stubbs'];
const LOREM = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad ' +
  'minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit ' +
  'voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt ' +
  'mollit anim id est laborum'
).split(' ');

/** The scrubbed copy of a payload (a call or an event envelope) as parsed from its JSON. */
export function scrubPayload(payload: unknown): unknown {
  const fakes = new Fakes();
  collectNames(payload, false, fakes);
  return scrub(payload, { key: '', inVariables: false }, fakes);
}

interface Place {
  key: string;
  inVariables: boolean;
}

function scrub(value: unknown, place: Place, fakes: Fakes): unknown {
  if (typeof value === 'string') return scrubString(value, place, fakes);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    // A transcript as turns: each turn's text (a chat message's content) is speech, its sender
    // or role and times are kept.
    if (place.key === 'transcript') {
      return value.map((turn: unknown) =>
        turn && typeof turn === 'object' && !Array.isArray(turn)
          ? Object.fromEntries(Object.entries(turn).map(([k, v]) => [k, TURN_TEXT_KEY.test(k) && typeof v === 'string' ? fakes.speech(v) : v]))
          : scrub(turn, place, fakes),
      );
    }
    return value.map((item: unknown) => scrub(item, place, fakes));
  }
  const inVariables = VARIABLES_KEY.test(place.key);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrub(item, { key, inVariables }, fakes)]));
}

function scrubString(value: string, place: Place, fakes: Fakes): string {
  if (KEEP_KEY.test(place.key)) return value;
  if (SPEECH_KEY.test(place.key)) return fakes.transcriptText(value);
  if ((place.inVariables && NAME_KEY.test(place.key)) || PERSON_KEY.test(place.key)) return fakes.name(value);
  if (place.inVariables && FREE_TEXT_KEY.test(place.key)) return fakes.speech(value);
  return fakes.namesIn(replaceContacts(value, fakes.contacts));
}

/** First pass: every name under a name key of variables, so the fake is known wherever it appears. */
function collectNames(value: unknown, inVariables: boolean, fakes: Fakes, key = ''): void {
  if (typeof value === 'string') {
    if ((inVariables && NAME_KEY.test(key)) || PERSON_KEY.test(key)) fakes.name(value);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, item] of Object.entries(value)) collectNames(item, Array.isArray(value) ? inVariables : VARIABLES_KEY.test(k), fakes, k);
}

/** The fakes of one scrub: each original (phone digits, address, word) mapped once. */
class Fakes {
  private readonly phones = new Map<string, string>();
  private readonly emails = new Map<string, string>();
  private readonly nameWords = new Map<string, string>();
  private readonly words = new Map<string, string>();

  readonly contacts: ContactReplacer = {
    // +1 555 010 xxxx: the shape of a US number in a range no one is given.
    phone: (text) => this.once(this.phones, text.replace(/\D/g, ''), (n) => `+1555010${String(n).padStart(4, '0')}`),
    email: (address) => this.once(this.emails, address.toLowerCase(), (n) => `user${n}@example.com`),
  };

  /** "Dana Whitfield" → "Alex Sample": each word its own fake, first words from first names. */
  name(value: string): string {
    let index = 0;
    return this.aroundContacts(value, (rest) => rest.replace(WORD, (word) => {
      const list = index++ === 0 ? FIRST_NAMES : LAST_NAMES;
      const fake = this.once(this.nameWords, word.toLowerCase(), (n) => {
        const base = list[(n - 1) % list.length]!;
        return n > list.length ? `${base}${Math.ceil(n / list.length)}` : base;
      });
      return word === word.toLowerCase() ? fake.toLowerCase() : fake;
    }));
  }

  /** Words of the collected names inside other text (a company named after its owner). */
  namesIn(text: string): string {
    if (this.nameWords.size === 0) return text;
    return text.replace(WORD, (word) => {
      const fake = word.length > 1 ? this.nameWords.get(word.toLowerCase()) : undefined;
      if (fake === undefined) return word;
      return word === word.toLowerCase() ? fake.toLowerCase() : fake;
    });
  }

  /**
   * Free speech as lorem words of the same lengths (the same word always the same fake), phones
   * and emails as their fakes, other digits as 5s: the shape of the text stays, its content goes.
   */
  speech(text: string): string {
    return this.aroundContacts(text, (rest) => rest.replace(/\d/g, '5').replace(WORD, (word) => this.lorem(word)));
  }

  /** Phones and emails replaced by their fakes, and `transform` applied to the text around them only. */
  private aroundContacts(text: string, transform: (rest: string) => string): string {
    const found: string[] = [];
    const held = replaceContacts(text.replaceAll(HOLE, ''), {
      phone: (p, cc) => (found.push(this.contacts.phone(p, cc)), HOLE),
      email: (a) => (found.push(this.contacts.email(a)), HOLE),
    });
    let i = 0;
    return transform(held).replaceAll(HOLE, () => found[i++]!);
  }

  /** A transcript as text: speaker labels at line starts kept, the rest speech. */
  transcriptText(text: string): string {
    return text
      .split('\n')
      .map((line) => {
        const label = /^(\s*)([A-Za-z]+)(\s*:\s?)(.*)$/s.exec(line);
        if (label && speakerOfLabel(label[2]!)) return `${label[1]}${label[2]}${label[3]}${this.speech(label[4]!)}`;
        return this.speech(line);
      })
      .join('\n');
  }

  private lorem(word: string): string {
    const fake = this.once(this.words, word.toLowerCase(), (n) => loremOfLength(word.length, n));
    if (word.length > 1 && word === word.toUpperCase()) return fake.toUpperCase();
    return word[0] === word[0]!.toUpperCase() && word[0] !== word[0]!.toLowerCase() ? fake[0]!.toUpperCase() + fake.slice(1) : fake;
  }

  private once(map: Map<string, string>, key: string, make: (n: number) => string): string {
    let fake = map.get(key);
    if (fake === undefined) {
      fake = make(map.size + 1);
      map.set(key, fake);
    }
    return fake;
  }
}

/** The `n`th lorem word of exactly `length` letters (lorem words run together and cut when none fits). */
function loremOfLength(length: number, n: number): string {
  const fitting = LOREM.filter((w) => w.length === length);
  if (fitting.length > 0) return fitting[(n - 1) % fitting.length]!;
  let text = '';
  for (let i = n; text.length < length; i++) text += LOREM[i % LOREM.length]!;
  return text.slice(0, length);
}
