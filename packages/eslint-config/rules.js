import { existsSync } from 'node:fs';
import path from 'node:path';

/** The folder of the nearest package.json above `file`. */
function packageRoot(file) {
  let dir = path.dirname(file);
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return dir;
}

/**
 * A relative import must stay inside its own package: code in another package is
 * reached through that package's name and `exports`, never through `../../`.
 * @type {import('eslint').Rule.RuleModule}
 */
export const noCrossPackageRelative = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid relative imports that leave the package' },
    messages: {
      leaves:
        "'{{source}}' reaches into another package; import it by its package name through its exports.",
    },
    schema: [],
  },
  create(context) {
    const own = packageRoot(context.filename);
    function check(node) {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(context.filename), source);
      const theirs = packageRoot(path.join(target, 'x'));
      if (own !== undefined && theirs !== own && !target.startsWith(own + path.sep)) {
        context.report({ node: node.source, messageId: 'leaves', data: { source } });
      }
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

/**
 * Every lint suppression says why: `// eslint-disable-next-line rule -- reason`.
 * @type {import('eslint').Rule.RuleModule}
 */
export const suppressionNeedsReason = {
  meta: {
    type: 'suggestion',
    docs: { description: 'require a reason on eslint-disable comments' },
    messages: { bare: 'Say why this rule is suppressed: add "-- <reason>" to the comment.' },
    schema: [],
  },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          const text = comment.value.trim();
          if (/^eslint-disable/.test(text) && !/\s--\s*\S/.test(text)) {
            context.report({ loc: comment.loc, messageId: 'bare' });
          }
        }
      },
    };
  },
};
