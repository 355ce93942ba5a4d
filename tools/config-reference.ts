/** `npm run docs:config`: rewrites the README's configuration table from the settings class. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigReference } from '../libs/config/src';

const readme = join(__dirname, '..', 'README.md');
writeFileSync(readme, withConfigReference(readFileSync(readme, 'utf8')));
console.log('README.md configuration reference updated.');
