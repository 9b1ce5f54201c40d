/** Kubernetes label selectors (equality- and set-based), as `kubectl get pods -l ...` sends them. */
export type LabelMatcher = (labels: Record<string, string>) => boolean;

export class SelectorError extends Error {}

function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

function requirement(text: string): LabelMatcher {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = list.split(',').map((v) => v.trim());
    return op === 'in'
      ? (labels) => key in labels && values.includes(labels[key] ?? '')
      : (labels) => !(key in labels) || !values.includes(labels[key] ?? '');
  }
  const notExists = /^!\s*([\w./-]+)$/.exec(text);
  if (notExists) return (labels) => !((notExists[1] ?? '') in labels);
  const equality = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(text);
  if (equality) {
    const [, key = '', op, value] = equality;
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const exists = /^([\w./-]+)$/.exec(text);
  if (exists) return (labels) => (exists[1] ?? '') in labels;
  throw new SelectorError(`unable to parse requirement: ${text}`);
}

export function parseLabelSelector(selector: string | null): LabelMatcher {
  const requirements = splitRequirements(selector ?? '').map(requirement);
  return (labels) => requirements.every((matches) => matches(labels));
}

/** Field selectors on the few pod fields clients filter by. */
export function parseFieldSelector(
  selector: string | null,
): (fields: Record<string, string | undefined>) => boolean {
  const requirements = splitRequirements(selector ?? '').map((text) => {
    const match = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(text);
    if (!match) throw new SelectorError(`invalid field selector: ${text}`);
    const [, field = '', op, value] = match;
    return (fields: Record<string, string | undefined>) => (fields[field] === value) !== (op === '!=');
  });
  return (fields) => requirements.every((matches) => matches(fields));
}
