#!/usr/bin/env node
// `philotes` from npm (npx philotes, npm link): the built command line (npm run build makes it).
require('../dist/apps/philotes/main.js');
