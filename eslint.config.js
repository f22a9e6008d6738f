// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import flag_word_ops from './lint/flag-word-ops.js'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    rules: {
      // The core is pure: no Node imports below the CLI (DESIGN.md, layers).
      'no-restricted-imports': ['error', { paths: ['fs', 'path', 'os', 'child_process', 'process'], patterns: ['node:*'] }],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'fuzz/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Repository scripts run on Node.
    files: ['lint/**/*.mjs', 'rolldown.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // 64-bit flag words (vm_flags_t, kernel_cap_t) only through src/include/wide.ts: the rule needs
    // types (it finds the FlagWord brand), so TypeScript files are linted with the program of
    // tsconfig.check.json, which covers src, bench and test.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname } },
    plugins: { local: { rules: { 'flag-word-ops': flag_word_ops } } },
    rules: { 'local/flag-word-ops': 'error' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Kernel names are kept as the kernel spells them.
      camelcase: 'off',
    },
  },
)
