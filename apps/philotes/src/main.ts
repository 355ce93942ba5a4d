// `philotes`: the operator's command line (verify, migrate, config-reference), built into dist/ and
// shipped in the image as /usr/local/bin/philotes. Wiring only: see libs/command-line.
import { ExitCode, parseInvocation, runCommand } from '@philotes/command-line';
import { version } from '../../../package.json';

const io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) };

async function main(argv: readonly string[]): Promise<number> {
  const invocation = parseInvocation(argv);
  switch (invocation.kind) {
    case 'help':
      io.out(invocation.text);
      return ExitCode.Ok;
    case 'version':
      io.out(version);
      return ExitCode.Ok;
    case 'usage-error':
      io.err(invocation.message);
      return ExitCode.Usage;
    default:
      return runCommand(invocation, process.env, io);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    io.err(`philotes failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = ExitCode.CouldNotRun;
  },
);
