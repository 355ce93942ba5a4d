import { COMMANDS, mainHelp, parseInvocation } from './commands';
import { ExitCode } from './exit-codes';

describe('the philotes command line', () => {
  it('reads each command with its options, typed and defaulted', () => {
    expect(parseInvocation(['verify'])).toEqual({ kind: 'run', command: 'verify', args: { source: undefined, table: undefined, timeoutMs: 60_000, json: false, keyIndex: false } });
    expect(parseInvocation(['verify', '--source', 'crm', '--table', 'public.a.b', '--timeout', '2m', '--key-index', '--json'])).toEqual({
      kind: 'run',
      command: 'verify',
      args: { source: 'crm', table: 'public.a.b', timeoutMs: 120_000, json: true, keyIndex: true },
    });
    expect(parseInvocation(['migrate'])).toEqual({ kind: 'run', command: 'migrate', args: {} });
    expect(parseInvocation(['config-reference', '--write', 'README.md'])).toEqual({ kind: 'run', command: 'config-reference', args: { write: 'README.md' } });
  });

  it('refuses bad arguments naming the option and the rule, and an unknown command naming the commands', () => {
    const refused = (argv: string[]) => {
      const invocation = parseInvocation(argv);
      return invocation.kind === 'usage-error' ? invocation.message : `accepted: ${JSON.stringify(invocation)}`;
    };
    expect(refused(['verify', '--timeout', 'soon'])).toMatch(/--timeout must be a duration such as 60s, got "soon"/);
    expect(refused(['verify', '--table', 'orders'])).toMatch(/--table must be schema.table, got "orders"/);
    expect(refused(['verify', '--bogus'])).toMatch(/verify: Unknown option '--bogus'/);
    expect(refused(['verify', '--source'])).toMatch(/--source/);
    expect(refused(['migrate', 'now'])).toMatch(/migrate: .*positional/i);
    expect(refused(['vrify'])).toMatch(/unknown command "vrify"; commands: verify, migrate, config-reference/);
  });

  it('answers --help everywhere, listing every command and the exit codes', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) expect(parseInvocation(argv)).toEqual({ kind: 'help', text: mainHelp() });
    for (const name of Object.keys(COMMANDS)) expect(mainHelp()).toContain(name);
    for (const code of Object.values(ExitCode)) expect(mainHelp()).toMatch(new RegExp(`^  ${code}  `, 'm'));
    for (const name of Object.keys(COMMANDS)) {
      const help = parseInvocation([name, '--help']);
      expect(help.kind).toBe('help');
      expect(help.kind === 'help' && help.text.startsWith(`philotes ${name}`)).toBe(true);
    }
    expect(parseInvocation(['--version'])).toEqual({ kind: 'version' });
  });
});
