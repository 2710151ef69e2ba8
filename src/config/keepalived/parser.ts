/**
 * Block tree builder: logical lines -> nested ConfigNode statements.
 *
 * Mirrors lib/parser.c `process_stream` / `alloc_value_block`, paraphrased:
 * a statement is a keyword and its arguments up to the end of the line or
 * the next brace; a statement followed by `{` (on the same line or alone on
 * the next one) owns a block that ends at the matching `}`. Value blocks
 * such as `virtual_ipaddress { ... }` come out the same way: each entry line
 * is a child whose keyword is its first word. Includes have already been
 * spliced in, so a block may open in one file and close in another.
 *
 * keepalived itself only logs brace problems; here they are fatal, and the
 * error points at the likely culprit rather than where the imbalance shows:
 * a known block keyword written without `{`, or a block whose `}` is
 * indented like an outer block.
 *
 * Blocks nest at most MAX_BLOCK_DEPTH deep (keepalived's deepest is 4:
 * virtual_server > real_server > HTTP_GET > url), so the recursive walks over
 * the tree cannot overflow the stack on hostile input.
 */
import { ConfigError } from '../errors.js';
import type { LexLine, Token } from './lexer.js';

/** Deepest block nesting accepted; far beyond any keepalived keyword table. */
export const MAX_BLOCK_DEPTH = 64;

export interface ConfigNode {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly file: string;
  readonly line: number;
  /** Present when the statement opened a `{ ... }` block (possibly empty). */
  children?: ConfigNode[];
}

interface Frame {
  readonly owner: ConfigNode | undefined;
  readonly children: ConfigNode[];
}

interface BlockLayout {
  readonly openIndent: number;
  closeIndent?: number;
  closeLine?: number;
  closeFile?: string;
}

/**
 * Builds the statement tree; throws ConfigError on unbalanced braces.
 * `blockKeywords` (keywords that always take a block) sharpen the diagnosis.
 */
export function buildTree(lines: readonly LexLine[], blockKeywords: ReadonlySet<string> = new Set()): ConfigNode[] {
  const root: Frame = { owner: undefined, children: [] };
  const stack: Frame[] = [root];
  const inOrder: ConfigNode[] = [];
  const closedInOrder: ConfigNode[] = [];
  const layout = new Map<ConfigNode, BlockLayout>();
  const indentOf = new Map<ConfigNode, number>();
  // The statement that ended its line; a `{` starting the next line opens its block.
  let awaitingBlock: ConfigNode | undefined;

  for (const line of lines) {
    let words: Token[] = [];
    const flush = (): ConfigNode | undefined => {
      if (words.length === 0) return undefined;
      const node: ConfigNode = { keyword: words[0]!.text, args: words.slice(1).map((w) => w.text), file: line.file, line: line.line };
      stack[stack.length - 1]!.children.push(node);
      inOrder.push(node);
      indentOf.set(node, line.indent);
      words = [];
      return node;
    };
    line.tokens.forEach((token, index) => {
      if (token.kind === 'word') {
        awaitingBlock = undefined;
        words.push(token);
        return;
      }
      if (token.kind === 'open') {
        const owner = flush() ?? awaitingBlock;
        awaitingBlock = undefined;
        if (!owner) throw new ConfigError(line.file, line.line, '{', "expected a keyword before '{'");
        if (stack.length > MAX_BLOCK_DEPTH) fail(owner, `expected blocks nested at most ${MAX_BLOCK_DEPTH} deep`);
        owner.children = [];
        layout.set(owner, { openIndent: indentOf.get(owner) ?? 0 });
        stack.push({ owner, children: owner.children });
        return;
      }
      flush();
      awaitingBlock = undefined;
      if (stack.length === 1) {
        const missingOpen = [...inOrder].reverse().find((n) => blockKeywords.has(n.keyword) && !n.children);
        if (missingOpen) fail(missingOpen, "expected '{' to open the block");
        throw new ConfigError(line.file, line.line, '}', "expected a keyword here, found '}' with no open block");
      }
      const closed = stack.pop()!.owner!;
      closedInOrder.push(closed);
      const l = layout.get(closed)!;
      if (index === 0) l.closeIndent = line.indent;
      l.closeLine = line.line;
      l.closeFile = line.file;
    });
    awaitingBlock = flush() ?? awaitingBlock;
  }

  if (stack.length > 1) {
    // The first block closed by a `}` indented like an outer block is the likely one missing its `}`.
    const suspect = closedInOrder.find((n) => {
      const l = layout.get(n);
      return l?.closeIndent !== undefined && l.closeFile === n.file && l.closeIndent < l.openIndent;
    });
    if (suspect) {
      const l = layout.get(suspect)!;
      fail(suspect, `expected '}' to close this block (the '}' at line ${l.closeLine} is indented like an outer block's)`);
    }
    const open = stack[stack.length - 1]!.owner!;
    fail(open, "expected '}' to close this block before the end of the configuration");
  }
  return root.children;
}

function fail(node: ConfigNode, expected: string): never {
  throw new ConfigError(node.file, node.line, node.keyword, expected);
}
