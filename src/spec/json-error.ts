// Where is a JSON text broken? JSON.parse's messages differ between V8 versions and often
// carry no position at all ("Unexpected token '}', ..." is not valid JSON"), so after a
// failed parse this small RFC 8259 scanner walks the text again to find the first offending
// character and say it as `Unexpected token } at line 3 column 5`.
//
// Only ever run on text JSON.parse rejected, so it favours clarity over speed.

export interface JsonSyntaxProblem {
  /** e.g. "Unexpected token }", "Unexpected end of input". */
  message: string;
  /** 1-based line and column (columns count UTF-16 code units, as editors mostly do). */
  line: number;
  column: number;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** Find the first syntax error in `text`, or undefined if the scanner finds none. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const unexpected = (at: number): never => {
    if (at >= text.length) throw new Stop(at, 'Unexpected end of input');
    const c = text[at]!;
    throw new Stop(at, `Unexpected token ${c.charCodeAt(0) < 0x20 ? JSON.stringify(c) : c}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) unexpected(i);
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) unexpected(i);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop(i, 'Bad control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === undefined) unexpected(i + 1);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, 'Bad Unicode escape in string');
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e!)) throw new Stop(i, 'Bad escaped character in string');
        i += 2;
        continue;
      }
      i++;
    }
  };
  const digits = () => {
    const start = i;
    while (i < text.length && text[i]! >= '0' && text[i]! <= '9') i++;
    if (i === start) unexpected(i);
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') unexpected(i);
        string();
        ws();
        if (text[i] !== ':') unexpected(i);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        unexpected(i);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        unexpected(i);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    unexpected(i);
  };

  try {
    value();
    ws();
    if (i < text.length) unexpected(i);
    return undefined;
  } catch (e) {
    if (!(e instanceof Stop)) return undefined; // e.g. RangeError from absurd nesting
    return { message: e.message, ...lineColumn(text, e.offset) };
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
