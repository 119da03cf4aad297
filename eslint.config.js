// Lint: typescript-eslint's recommended rules, the promise rules that need type information
// (a floating or misused promise fails the lint), and the import boundaries between folders.
// scenarios/ import only the public harness entry and targets; reports/ read the result
// type, never the runtime or the drivers; the engine never imports tooling or test helpers;
// harness/base imports nothing of ours.
import tseslint from 'typescript-eslint';

const engine = ['base', 'checkers', 'drivers', 'faults', 'metrics', 'result', 'run', 'runtime', 'scenario', 'sla'].map((d) => `harness/${d}/**/*.ts`);

export default tseslint.config(
  { ignores: ['node_modules/**', 'results/**', 'dist/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
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
  {
    files: engine,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/tooling/*', '**/tooling/**', '**/testing/*', '**/testing/**', '**/cli/*', '**/reports/*'], message: 'the engine does not import tooling, test helpers, the CLI or reports.' }],
      }],
    },
  },
  {
    files: ['harness/base/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['../*', '../../*'], message: 'harness/base holds leaf primitives: it imports nothing of ours outside itself.' }],
      }],
    },
  },
);
