import { parser } from '@prometheus-io/lezer-promql';

/** A node of lezer's syntax tree (its type, without depending on @lezer/common directly). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** The label names a metric's series carry once Prometheus has them (target labels included). */
export type KnownMetrics = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Parses `expr` and checks it against the metrics that exist: every selector
 * names a known metric and matches only labels that metric has; every
 * by()/without(), on()/ignoring() and group_left/right() names labels its
 * operands really carry (worked out through aggregations, label_replace and
 * histogram_quantile). Returns the problems, none when the query is sound.
 */
export function checkQuery(expr: string, known: KnownMetrics): string[] {
  const tree = parser.parse(expr);
  const problems: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) problems.push(`does not parse at offset ${node.from}: '${expr.slice(node.from, node.from + 20)}'`);
    },
  });
  if (problems.length > 0) return problems;
  labelsOf(tree.topNode, expr, known, problems);
  return problems;
}

/** The labels a query's result series carry (what a recording rule's output has). */
export function outputLabels(expr: string, known: KnownMetrics): Set<string> {
  return labelsOf(parser.parse(expr).topNode, expr, known, []);
}

const text = (node: SyntaxNode, expr: string) => expr.slice(node.from, node.to);
const unquote = (literal: string) => literal.slice(1, -1);
/** Aggregations that pick series rather than combine them: the result keeps every label. */
const SELECTING = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);

function children(node: SyntaxNode): SyntaxNode[] {
  const result: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) result.push(child);
  return result;
}

function groupingLabels(node: SyntaxNode | null, expr: string): string[] {
  const grouping = node?.getChild('GroupingLabels');
  return grouping ? grouping.getChildren('LabelName').map((label) => text(label, expr)) : [];
}

function labelsOf(node: SyntaxNode, expr: string, known: KnownMetrics, problems: string[]): Set<string> {
  switch (node.name) {
    case 'VectorSelector':
      return selectorLabels(node, expr, known, problems);
    case 'AggregateExpr': {
      const body = node.getChild('FunctionCallBody');
      const operands = body ? children(body) : [];
      // The last operand is the vector; topk(5, v) and quantile(0.9, v) put a parameter first.
      const inner = operands.length > 0 ? labelsOf(operands[operands.length - 1] as SyntaxNode, expr, known, problems) : new Set<string>();
      for (const parameter of operands.slice(0, -1)) labelsOf(parameter, expr, known, problems);
      const op = text(node.getChild('AggregateOp') as SyntaxNode, expr).toLowerCase();
      const modifier = node.getChild('AggregateModifier');
      const grouping = groupingLabels(modifier, expr);
      for (const label of grouping) {
        if (!inner.has(label)) problems.push(`${op} ${modifier?.firstChild?.name === 'Without' ? 'without' : 'by'} (${label}): its operand has no label '${label}' (has: ${[...inner].sort().join(', ') || 'none'})`);
      }
      if (SELECTING.has(op)) return inner;
      if (!modifier) return new Set();
      return modifier.firstChild?.name === 'Without' ? new Set([...inner].filter((label) => !grouping.includes(label))) : new Set(grouping);
    }
    case 'FunctionCall': {
      const name = text(node.getChild('FunctionIdentifier') as SyntaxNode, expr);
      const body = node.getChild('FunctionCallBody');
      const args = body ? children(body) : [];
      const argLabels = args.map((arg) => labelsOf(arg, expr, known, problems));
      if (name === 'vector' || name === 'time' || name === 'scalar') return new Set();
      if (name === 'label_replace' || name === 'label_join') {
        const target = args[1];
        const result = new Set(argLabels[0]);
        if (target?.name === 'StringLiteral') result.add(unquote(text(target, expr)));
        return result;
      }
      const vectors = new Set(argLabels.flatMap((labels) => [...labels]));
      if (name === 'histogram_quantile') {
        if (!vectors.has('le')) problems.push(`histogram_quantile: its operand has no label 'le' (sum by (..., le) kept?)`);
        vectors.delete('le');
      }
      return vectors;
    }
    case 'BinaryExpr': {
      const operands = children(node).filter((child) => !['MatchingModifierClause', 'BoolModifier'].includes(child.name) && !isOperator(child));
      const [left, right] = operands.map((operand) => labelsOf(operand, expr, known, problems));
      const clause = node.getChild('MatchingModifierClause');
      if (clause && left && right) {
        const matching = clause.getChild('GroupingLabels');
        const on = clause.firstChild?.name === 'On';
        for (const label of matching ? matching.getChildren('LabelName').map((l) => text(l, expr)) : []) {
          for (const [side, labels] of [['left', left], ['right', right]] as const) {
            if (!labels.has(label)) problems.push(`${on ? 'on' : 'ignoring'} (${label}): the ${side} operand has no label '${label}'`);
          }
        }
        // group_left(extra) / group_right(extra) copy labels from the "one" side.
        const groupLabels = clause.getChildren('GroupingLabels').slice(1);
        for (const labelNode of groupLabels.flatMap((g) => g.getChildren('LabelName'))) {
          const label = text(labelNode, expr);
          if (!left.has(label) && !right.has(label)) problems.push(`group_left/right (${label}): neither operand has label '${label}'`);
        }
      }
      return new Set([...(left ?? []), ...(right ?? [])]);
    }
    default: {
      // Parentheses, ranges, subqueries, offsets, unary minus and the top node
      // carry their operand's labels; literals carry none.
      const labels = new Set<string>();
      for (const child of children(node)) for (const label of labelsOf(child, expr, known, problems)) labels.add(label);
      return labels;
    }
  }
}

function isOperator(node: SyntaxNode): boolean {
  return node.firstChild === null && !['NumberDurationLiteral', 'StringLiteral', 'VectorSelector'].includes(node.name);
}

function selectorLabels(node: SyntaxNode, expr: string, known: KnownMetrics, problems: string[]): Set<string> {
  const identifier = node.getChild('Identifier');
  if (!identifier) {
    problems.push(`'${text(node, expr)}': a selector without a metric name cannot be checked; name the metric`);
    return new Set();
  }
  const name = text(identifier, expr);
  const labels = known.get(name);
  if (!labels) {
    problems.push(`unknown metric '${name}': neither in METRIC_CATALOGUE, nor a default process metric, nor one Prometheus makes, nor a recording rule`);
    return new Set();
  }
  for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
    const label = text(matcher.getChild('LabelName') as SyntaxNode, expr);
    if (label !== '__name__' && !labels.has(label)) problems.push(`${name}{${label}...}: ${name} has no label '${label}' (has: ${[...labels].sort().join(', ')})`);
  }
  return new Set(labels);
}
