// Type-aware linting. The promise rules are the point: a floating promise in a CDC pipeline is a
// write nobody waits for, and a lost error.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import philotes from './lint/buffer-sql.cjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '*.config.js', 'eslint.config.mjs', 'helm/**', 'lint/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'off',
      // A lib is imported by its alias, never by a path into its folder (which skips its barrel
      // and hides the dependency from the lib graph).
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/libs/*/src', '**/libs/*/src/**', '../../*/src', '../../*/src/**'], message: 'import a lib as @philotes/<lib>' }] }],
    },
  },
  {
    // One owner for the buffer schema (lint/buffer-sql.cjs says why tests are exempt).
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'tools/**/*.ts'],
    ignores: ['libs/buffer/**', '**/*.spec.ts'],
    plugins: { philotes },
    rules: { 'philotes/buffer-sql': 'error' },
  },
  {
    // Plain scripts shipped in the image, outside the TypeScript project.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly', Response: 'readonly', Headers: 'readonly' },
    },
  },
  {
    // The npm bin: CommonJS, it loads the built command line.
    files: ['bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
