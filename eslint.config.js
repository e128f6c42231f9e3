// The linter `npm test` runs. It enforces the rules the code is written to (STYLE.md): no unused
// code, type-only imports marked as such, no promise left floating, plus ESLint's and
// typescript-eslint's recommended checks. Type-aware rules read the two tsconfig projects.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench-results/'] },
  // the one plain-JS file: the bin shim that loads the compiled CLI
  { files: ['bin/*.js', 'eslint.config.js'], languageOptions: { globals: { process: 'readonly' } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // an unused eslint-disable comment is an error, so each one that stays is needed
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true, caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `let x` then a cleanup callback that reads x, then `x = create()`: the callback must not
      // meet the variable uninitialised if creation throws, so such a let stays a let
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }]
    }
  },
  {
    // the web page's source is compiled for the browser (DOM types), by its own project
    files: ['src/ui/app/**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.ui.json'], tsconfigRootDir: import.meta.dirname }
    }
  },
  {
    // STYLE allows no `any` in public APIs; tests read JSON answers as `any` and let their
    // assertions check the shape
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  }
)
