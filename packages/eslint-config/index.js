import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { noCrossPackageRelative, suppressionNeedsReason } from './rules.js';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        // Lets consistent-type-imports keep value imports that decorator metadata needs.
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: {
      portal: {
        rules: {
          'no-cross-package-relative': noCrossPackageRelative,
          'suppression-needs-reason': suppressionNeedsReason,
        },
      },
    },
    rules: {
      'portal/no-cross-package-relative': 'error',
      'portal/suppression-needs-reason': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@portal/*/src', '@portal/*/src/*', '@portal/*/dist', '@portal/*/dist/*'],
              message: 'Import a package by its name; its package.json exports are its public API.',
            },
          ],
        },
      ],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
);
