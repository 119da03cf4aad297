// Lint: typescript-eslint's recommended rules plus the import boundaries between folders.
// scenarios/ import only the public harness entry and targets; reports/ read the result
// type, never the runtime or the drivers.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['scenarios/**/*.ts'],
    ignores: ['scenarios/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['../harness/*', '!../harness/index.ts'], message: 'scenarios import only harness/index.ts and targets/.' }],
      }],
    },
  },
  {
    files: ['reports/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['../harness/runtime/*', '../harness/drivers/*', '../harness/cli/*', '../targets/*'], message: 'reports are pure functions of the result document; import harness/result only.' }],
      }],
    },
  },
);
