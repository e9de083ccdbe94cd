// mydocker build's pure parts: the Dockerfile parser (directives, continuations, comments,
// flags, JSON forms, stages), docker's word substitution and quoting, and .dockerignore
// matching — each against what docker's classic builder does with the same text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IgnoreMatcher } from '../../src/mydocker/build/context.js';
import { DockerfileError, parseDockerfile } from '../../src/mydocker/build/dockerfile.js';
import { processWord, processWords, rawWords, unquotedEquals } from '../../src/mydocker/build/shell-words.js';
import { InputError } from '../../src/mydocker/errors.js';

describe('Dockerfile parser', () => {
  it('stages, AS names, meta ARGs, line numbers and the original text', () => {
    const df = parseDockerfile(['ARG V=1', '# comment', '', 'FROM busybox:$V AS Build', 'run echo a \\', '  && echo b', 'FROM build', 'COPY --from=build /a /b', ''].join('\n'));
    assert.equal(df.metaArgs.length, 1);
    assert.equal(df.stages.length, 2);
    assert.equal(df.stages[0]!.name, 'build');
    assert.equal(df.stages[0]!.base, 'busybox:$V');
    const run = df.stages[0]!.instructions[0]!;
    assert.equal(run.cmd, 'RUN');
    assert.equal(run.line, 5);
    assert.equal(run.args, 'echo a   && echo b');
    assert.equal(run.original, 'run echo a   && echo b');
    const copy = df.stages[1]!.instructions[0]!;
    assert.deepEqual(copy.flags, { from: 'build' });
    assert.equal(copy.args, '/a /b');
  });

  it('comment lines inside a continuation are dropped; a # elsewhere is not a comment', () => {
    const df = parseDockerfile('FROM x\nRUN echo one \\\n# not part of it\n  two # kept\n');
    assert.equal(df.stages[0]!.instructions[0]!.args, 'echo one   two # kept');
  });

  it('JSON forms, and the shell form when it is not a JSON array of strings', () => {
    const df = parseDockerfile('FROM x\nCMD ["a", "b c"]\nCMD [1, 2]\nENTRYPOINT [ "sh" ]\nRUN [broken\n');
    const ins = df.stages[0]!.instructions;
    assert.deepEqual(ins[0]!.json, ['a', 'b c']);
    assert.equal(ins[1]!.json, null);
    assert.deepEqual(ins[2]!.json, ['sh']);
    assert.equal(ins[3]!.json, null);
  });

  it('the escape directive (backtick, for Windows-style paths), and directives only at the top', () => {
    const df = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo done\n');
    assert.equal(df.escape, '`');
    assert.equal(df.stages[0]!.instructions[0]!.args, 'dir c:\\   && echo done');
    // After a comment a directive-looking line is only a comment.
    assert.equal(parseDockerfile('# hello\n# escape=`\nFROM x\n').escape, '\\');
    assert.throws(() => parseDockerfile('# escape=x\nFROM x\n'), /invalid escape token/);
  });

  it('errors name the line: unknown instruction, no FROM, flags, BuildKit-only forms, arguments', () => {
    const cases: [string, RegExp][] = [
      ['FROM x\nFOO bar\n', /line 2: unknown instruction: FOO/],
      ['RUN x\n', /line 1: no build stage/],
      ['', /no FROM/],
      ['FROM x\nCOPY --bogus=1 a b\n', /line 2: unknown flag: --bogus for COPY/],
      ['FROM x\nRUN --mount=type=cache,target=/c make\n', /line 2: RUN --mount: a BuildKit-only flag/],
      ['FROM x\nCOPY <<EOF /f\n', /line 2: COPY with a heredoc/],
      ['FROM x\nUSER\n', /line 2: USER requires at least one argument/],
      ['FROM a b\n', /line 1: FROM requires either one or three arguments/],
      ['FROM a AS x\nFROM b AS X\n', /line 2: duplicate name x/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseDockerfile(text), (e: unknown) => e instanceof DockerfileError && re.test((e as Error).message), text);
  });
});

describe('Dockerfile word substitution (docker\'s shell lexer)', () => {
  const env: Record<string, string> = { A: 'a', EMPTY: '', SP: 'x y' };
  const lookup = (n: string) => env[n];
  const cases: [string, string][] = [
    ['$A', 'a'],
    ['${A}b', 'ab'],
    ['$Ab', ''],
    ['${NOPE:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${NOPE-dflt}', 'dflt'],
    ['${A:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${NOPE:-$A-nested}', 'a-nested'],
    ["'$A'", '$A'],
    ['"$A b"', 'a b'],
    ['\\$A', '$A'],
    ['"\\$A \\"q\\" \\n"', '$A "q" \\n'],
    ['a\\ b', 'a b'],
    ['$', '$'],
    ['$1', '$1'],
    ['cost: 5$', 'cost: 5$'],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${JSON.stringify(want)}`, () => assert.equal(processWord(input, lookup), want));
  }

  it('the escape character may be a backtick', () => {
    assert.equal(processWord('`$A \\$A', lookup, '`'), '$A \\a');
  });

  it('words split on unquoted whitespace', () => {
    assert.deepEqual(processWords('80 "a b" c\\ d $A', lookup), ['80', 'a b', 'c d', 'a']);
  });

  it('raw words keep their quotes for KEY=VALUE parsing', () => {
    assert.deepEqual(rawWords('A="x y" B=\'1 2\' C=a\\ b'), ['A="x y"', "B='1 2'", 'C=a\\ b']);
    assert.equal(unquotedEquals('"a=b"=c'), 5);
    assert.equal(unquotedEquals('noequals'), -1);
  });

  it('errors: unterminated quotes, bad substitutions, ${VAR:?}', () => {
    assert.throws(() => processWord('"abc', lookup), InputError);
    assert.throws(() => processWord("'abc", lookup), InputError);
    assert.throws(() => processWord('${A', lookup), /missing '}'|bad substitution/);
    assert.throws(() => processWord('${A%x}', lookup), /bad substitution/);
    assert.throws(() => processWord('${NOPE:?must be set}', lookup), /NOPE: must be set/);
    assert.equal(processWord('${A:?must be set}', lookup), 'a');
  });
});

describe('.dockerignore (docker\'s pattern matcher)', () => {
  it('globs, **, parents, and the last matching pattern wins with ! exceptions', () => {
    const m = new IgnoreMatcher(['# comment', '', '*.log', '/build', 'docs/**/*.md', '!docs/keep/README.md', 'tmp?', 'secret[0-9]', '**/node_modules', 'a/b/'].join('\n'));
    const yes = ['x.log', 'build', 'build/out/bin', 'docs/a.md', 'docs/x/y/z.md', 'tmp1', 'secret3', 'node_modules', 'pkg/node_modules/x', 'a/b', 'a/b/c'];
    const no = ['dir/x.log', 'src/build', 'docs/keep/README.md', 'docs/a.txt', 'tmp12', 'secretX', 'a/bc', 'README.md'];
    for (const p of yes) assert.equal(m.ignored(p), true, `${p} should be ignored`);
    for (const p of no) assert.equal(m.ignored(p), false, `${p} should not be ignored`);
    assert.equal(m.hasExceptions, true);
  });

  it('an exception re-includes a file of an excluded directory; a later pattern excludes it again', () => {
    const m = new IgnoreMatcher('src\n!src/keep.txt\n');
    assert.equal(m.ignored('src/x'), true);
    assert.equal(m.ignored('src/keep.txt'), false);
    const again = new IgnoreMatcher('*.txt\n!keep.txt\nkeep*\n');
    assert.equal(again.ignored('keep.txt'), true);
    assert.equal(again.ignored('other.txt'), true);
  });

  it('nothing is ignored without a .dockerignore, and the context root never is', () => {
    assert.equal(new IgnoreMatcher('').ignored('anything'), false);
    assert.equal(new IgnoreMatcher('*\n').ignored(''), false);
  });
});
