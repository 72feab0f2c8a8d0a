// Lint is part of `npm test`. The workflow rules keep workflow code deterministic: Temporal replays it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'packages/*/dist/**',
      'node_modules/**',
      'coverage/**',
      '.cache/**',
      '.data/**',
      'test-output/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', '*.mjs', 'test/*.js', 'scripts/*.mjs', 'packages/*/*.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no Node built-ins.',
          })),
          patterns: [
            {
              group: ['**/activities', '**/activities/*'],
              allowTypeImports: true,
              message: 'Workflows call activities through proxyActivities; import their types only.',
            },
            {
              group: [
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                'jsforce',
                'resend',
                '@clerk/backend',
                '@slack/webhook',
                'koa',
                'pino',
                'svix',
                'dotenv',
                '**/config',
                '**/logger',
              ],
              allowTypeImports: true,
              message: 'Workflow code must be deterministic: no I/O libraries.',
            },
            {
              group: ['zod', 'zod/*'],
              allowTypeImports: true,
              message:
                'The SDK evaluates workflow modules once per run and zod costs 40% of a run: Clerk payloads use valibot (src/shared/clerk.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { module: 'readonly', require: 'readonly', process: 'readonly', __dirname: 'readonly' },
    },
  },
  // The sandbox is a development package beside the product, never inside it: the product reaches it only in local
  // mode (`npm start`, `clerk-sync sandbox`, `send-sample`), and the sandbox never reaches into the product.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/local/**', 'src/cli/sandbox.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@clerk-sync/sandbox',
              message:
                'The sandbox is a dev dependency, absent from the production image: only src/local uses it.',
            },
            {
              name: '@temporalio/testing',
              message:
                'A dev dependency, absent from the production image: only src/local (the dev server) uses it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'clerk-sync', message: 'The sandbox emulates the SaaS; it never imports the product.' },
          ],
          patterns: [
            {
              // Three levels up from any of its files is outside the package: the product's folders.
              regex: '^(\\.\\./){3,}',
              message: 'The sandbox emulates the SaaS; it never imports the product.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
