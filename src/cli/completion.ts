/**
 * Shell completion scripts for bash, zsh and fish, generated from the command registry, so
 * that a command added to the registry completes without anyone touching this file.
 *
 * The three scripts share one model: a tree of command words (groups and commands), the
 * options of each node, which options take a value, and what a value or a positional
 * argument is (a file, a folder, one of a few words, or free text). What a value is comes
 * from its placeholder name in the registry: `<file>`, `<bundle>`, `<checkpoint>`,
 * `<target>` and `<key>` complete file names, `<dir>` folder names, `<shell>` the shells
 * below; anything else (`<n>`, `<json>`, `<glob>`) completes nothing.
 *
 * Every script registers both names the program is installed under.
 */
import type { CommandSpec, GroupSpec } from './command.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const PROGRAMS = ['stax', 'tracehound'] as const;

export type ValueKind = { kind: 'file' } | { kind: 'dir' } | { kind: 'words'; words: string[] } | { kind: 'none' };

export interface OptionModel {
  /** `-o`, `--out`. */
  names: string[];
  description: string;
  /** What the option's value is; null when it takes none. */
  value: ValueKind | null;
}

export interface NodeModel {
  /** Space-separated command path; '' for the program itself. */
  path: string;
  summary: string;
  /** Sub-commands, in registry order. */
  children: Array<{ name: string; summary: string }>;
  options: OptionModel[];
  /** What a positional argument is. */
  args: ValueKind;
}

const FILE_PLACEHOLDERS = new Set(['file', 'files', 'bundle', 'checkpoint', 'target', 'key', 'path', 'paths']);

export function valueKind(placeholder: string): ValueKind {
  const name = placeholder.replace(/^[<[]|\.\.\.|[>\]]$/g, '').replace(/\.\.\.$/, '');
  if (FILE_PLACEHOLDERS.has(name)) return { kind: 'file' };
  if (name === 'dir' || name === 'folder') return { kind: 'dir' };
  if (name === 'shell') return { kind: 'words', words: [...SHELLS] };
  return { kind: 'none' };
}

function parseOption(flags: string, description: string): OptionModel {
  const tokens = flags.split(/[\s,|]+/).filter((t) => t !== '');
  const names = tokens.filter((t) => t.startsWith('-'));
  const placeholder = tokens.find((t) => /^[<[]/.test(t));
  if (placeholder === undefined) return { names, description, value: null };
  // `<key>` is a key file or key name for --key, but a sort key for --sort.
  const value = /^[<[]key[>\]]$/.test(placeholder) && !names.includes('--key') ? ({ kind: 'none' } as const) : valueKind(placeholder);
  return { names, description, value };
}

const HELP: OptionModel = { names: ['-h', '--help'], description: 'show help', value: null };
const JSON_OPTION: OptionModel = { names: ['--json'], description: 'print the result as JSON on stdout', value: null };

/** The command tree every script is written from. */
export function completionModel(commands: readonly CommandSpec[], groups: readonly GroupSpec[]): NodeModel[] {
  const nodes = new Map<string, NodeModel>();
  const node = (path: string): NodeModel => {
    let n = nodes.get(path);
    if (n === undefined) {
      const group = groups.find((g) => g.name === path);
      n = { path, summary: group?.summary ?? '', children: [], options: [HELP], args: { kind: 'none' } };
      if (path === '') n.options = [HELP, { names: ['-V', '--version'], description: 'print the version', value: null }];
      nodes.set(path, n);
    }
    return n;
  };
  node('');
  for (const spec of commands) {
    const words = spec.name.split(' ');
    for (let i = 0; i < words.length; i++) {
      const parent = node(words.slice(0, i).join(' '));
      const path = words.slice(0, i + 1).join(' ');
      const child = node(path);
      if (i === words.length - 1) child.summary = spec.summary;
      if (!parent.children.some((c) => c.name === words[i])) parent.children.push({ name: words[i]!, summary: child.summary });
    }
    const leaf = node(spec.name);
    leaf.options = [...(spec.options ?? []).map((o) => parseOption(o.flags, o.description)), JSON_OPTION, HELP];
    const kinds = (spec.args ?? []).map(valueKind);
    leaf.args = kinds.find((k) => k.kind !== 'none') ?? { kind: 'none' };
  }
  // A group's summary may be known only once its commands are in: refresh the listings.
  for (const n of nodes.values()) for (const c of n.children) c.summary = nodes.get(n.path === '' ? c.name : `${n.path} ${c.name}`)?.summary ?? c.summary;
  return [...nodes.values()];
}

export function completionScript(shell: Shell, commands: readonly CommandSpec[], groups: readonly GroupSpec[]): string {
  const model = completionModel(commands, groups);
  switch (shell) {
    case 'bash':
      return bashScript(model);
    case 'zsh':
      return zshScript(model);
    case 'fish':
      return fishScript(model);
  }
}

// ---------------------------------------------------------------------------------------
// Shared pieces for the POSIX-like shells

/** A single-quoted shell word (bash, zsh). */
function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function kindWord(k: ValueKind): string {
  return k.kind === 'words' ? `words ${k.words.join(' ')}` : k.kind;
}

/** The first clause of a description, for one-line completion menus. */
function short(text: string): string {
  const first = text.split(/;\s|\.\s/)[0] ?? text;
  return first.length > 70 ? `${first.slice(0, 69)}…` : first;
}

function caseArms(arms: Array<[string[], string]>, indent: string): string {
  return arms.filter(([keys]) => keys.length > 0).map(([keys, body]) => `${indent}${keys.map(sq).join('|')}) ${body} ;;`).join('\n');
}

/** Functions both bash and zsh use: the tree as `case` statements. */
function treeFunctions(model: NodeModel[], menu: boolean): string {
  const edges = model.flatMap((n) => n.children.map((c) => `${n.path}|${c.name}`));
  const values = new Map<string, string[]>();
  for (const n of model) {
    for (const o of n.options) {
      if (o.value === null) continue;
      const word = kindWord(o.value);
      for (const name of o.names) values.set(word, [...(values.get(word) ?? []), `${n.path}|${name}`]);
    }
  }
  const list = (items: Array<{ name: string; summary: string }>): string =>
    menu ? `printf '%s\\n' ${items.map((i) => sq(`${i.name.replace(/:/g, '\\:')}:${short(i.summary)}`)).join(' ')}` : `printf '%s\\n' ${sq(items.map((i) => i.name).join(' '))}`;
  const parents = model.filter((n) => n.children.length > 0);
  const withArgs = model.filter((n) => n.children.length === 0 && n.args.kind !== 'none');
  return [
    '# Is $2 a sub-command of the command path $1?',
    '_stax_has_child() {',
    '  case "$1|$2" in',
    caseArms([[edges, 'return 0']], '    '),
    '  esac',
    '  return 1',
    '}',
    '',
    '# What the value of option $2 of command path $1 is; fails when the option takes none.',
    '_stax_value() {',
    '  case "$1|$2" in',
    caseArms([...values].map(([word, keys]) => [keys, `echo ${sq(word)}`]), '    '),
    '    *) return 1 ;;',
    '  esac',
    '}',
    '',
    '# The sub-commands of a command path; fails for a command that has none.',
    '_stax_children() {',
    '  case "$1" in',
    caseArms(parents.map((n) => [[n.path], list(n.children)]), '    '),
    '    *) return 1 ;;',
    '  esac',
    '}',
    '',
    '# The options of a command path.',
    '_stax_options() {',
    '  case "$1" in',
    caseArms(model.map((n) => [[n.path], list(n.options.flatMap((o) => o.names.map((name) => ({ name, summary: o.description }))))]), '    '),
    '  esac',
    '}',
    '',
    '# What a positional argument of a command path is.',
    '_stax_args() {',
    '  case "$1" in',
    caseArms(withArgs.map((n) => [[n.path], `echo ${sq(kindWord(n.args))}`]), '    '),
    '    *) echo none ;;',
    '  esac',
    '}',
  ].join('\n');
}

/** The loop that finds the command path in the words before the cursor (bash and zsh). */
function walkLoop(first: string, last: string, wordsVar: string): string {
  return [
    `  for (( i = ${first}; i < ${last}; i++ )); do`,
    `    word=\${${wordsVar}[i]}`,
    '    if (( skip )); then skip=0; continue; fi',
    '    case $word in',
    '      -*=*) ;;',
    '      -*) _stax_value "$node" "$word" >/dev/null && skip=1 ;;',
    '      *) _stax_has_child "$node" "$word" && node=${node:+$node }$word ;;',
    '    esac',
    '  done',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// bash

function bashScript(model: NodeModel[]): string {
  return `# bash completion for ${PROGRAMS.join(' and ')}, generated by 'stax completion bash' from the
# command registry. Load it in this shell:
#   source <(stax completion bash)
# or for every shell (bash-completion loads it by command name):
#   stax completion bash > ~/.local/share/bash-completion/completions/stax
#   stax completion bash > ~/.local/share/bash-completion/completions/tracehound

${treeFunctions(model, false)}

# Completes a value of the given kind into COMPREPLY.
_stax_complete_kind() {
  case $1 in
    file | dir)
      local IFS=$'\\n' flag=-f
      [[ $1 == dir ]] && flag=-d
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen "$flag" -- "$cur"))
      # bash splits the word at ":" (COMP_WORDBREAKS): hand back only the part after it.
      if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local prefix=\${cur%"\${cur##*:}"} i
        for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]=\${COMPREPLY[i]#"$prefix"}; done
      fi
      ;;
    words\\ *) COMPREPLY=($(compgen -W "\${1#words }" -- "$cur")) ;;
  esac
}

_stax() {
  local cur prev node= word kind i skip=0
  local -a words
  # The words up to the cursor, split at blanks only (COMP_WORDS also splits at ":" and "=").
  if [[ -n \${COMP_LINE-} ]]; then
    local line=\${COMP_LINE:0:\${COMP_POINT:-\${#COMP_LINE}}}
    read -ra words <<<"$line"
    [[ $line == *[[:blank:]] ]] && words+=('')
  else
    words=("\${COMP_WORDS[@]:0:COMP_CWORD+1}")
  fi
  (( \${#words[@]} < 2 )) && words+=('')
  cur=\${words[\${#words[@]}-1]}
  prev=\${words[\${#words[@]}-2]}
${walkLoop('1', '${#words[@]} - 1', 'words')}
  COMPREPLY=()
  if [[ $prev == -* && $prev != *=* ]] && kind=$(_stax_value "$node" "$prev"); then
    _stax_complete_kind "$kind"
    return 0
  fi
  if [[ $cur == -*=* ]] && kind=$(_stax_value "$node" "\${cur%%=*}"); then
    local option=\${cur%%=*}
    cur=\${cur#*=}
    _stax_complete_kind "$kind"
    if [[ $COMP_WORDBREAKS != *=* ]]; then
      for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]=$option=\${COMPREPLY[i]}; done
    fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_stax_options "$node")" -- "$cur"))
    return 0
  fi
  local children
  if children=$(_stax_children "$node"); then
    COMPREPLY=($(compgen -W "$children" -- "$cur"))
    return 0
  fi
  _stax_complete_kind "$(_stax_args "$node")"
  return 0
}

complete -F _stax ${PROGRAMS.join(' ')}
`;
}

// ---------------------------------------------------------------------------------------
// zsh

function zshScript(model: NodeModel[]): string {
  return `#compdef ${PROGRAMS.join(' ')}
# zsh completion for ${PROGRAMS.join(' and ')}, generated by 'stax completion zsh' from the
# command registry. Load it in this shell (after compinit):
#   source <(stax completion zsh)
# or for every shell: save it as _stax in a folder on $fpath, before compinit runs:
#   stax completion zsh > ~/.zfunc/_stax      # with fpath=(~/.zfunc $fpath) in ~/.zshrc

${treeFunctions(model, true)}

_stax_complete_kind() {
  case $1 in
    file) _files ;;
    dir) _files -/ ;;
    words\\ *) local -a choices; choices=(\${=\${1#words }}); compadd -a choices ;;
    *) return 1 ;;
  esac
}

_stax() {
  local node= word kind i skip=0 cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  local -a entries
${walkLoop('2', 'CURRENT', 'words')}
  if [[ $prev == -* && $prev != *=* ]] && kind=$(_stax_value "$node" "$prev"); then
    _stax_complete_kind "$kind"
    return
  fi
  if [[ $cur == -*=* ]] && kind=$(_stax_value "$node" "\${cur%%=*}"); then
    compset -P '*='
    _stax_complete_kind "$kind"
    return
  fi
  if [[ $cur == -* ]]; then
    entries=("\${(@f)$(_stax_options "$node")}")
    _describe -t options option entries
    return
  fi
  if _stax_children "$node" >/dev/null; then
    entries=("\${(@f)$(_stax_children "$node")}")
    _describe -t commands command entries
    return
  fi
  _stax_complete_kind "$(_stax_args "$node")"
}

if [[ \${funcstack[1]-} == _stax ]]; then
  _stax "$@"
else
  compdef _stax ${PROGRAMS.join(' ')}
fi
`;
}

// ---------------------------------------------------------------------------------------
// fish

/** A single-quoted fish word. */
function fq(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishScript(model: NodeModel[]): string {
  const edges = model.flatMap((n) => n.children.map((c) => `${n.path}|${c.name}`));
  const valued = model.flatMap((n) => n.options.filter((o) => o.value !== null).flatMap((o) => o.names.map((name) => `${n.path}|${name}`)));
  const lines: string[] = [];
  const at = (path: string): string => fq(path === '' ? '__stax_at' : `__stax_at ${path}`);
  const valueArgs = (k: ValueKind): string =>
    k.kind === 'file' ? '-r -F' : k.kind === 'dir' ? `-x -a ${fq('(__fish_complete_directories)')}` : k.kind === 'words' ? `-x -a ${fq(k.words.join(' '))}` : '-x';
  for (const n of model) {
    for (const c of n.children) lines.push(`    complete -c $prog -n ${at(n.path)} -a ${fq(c.name)} -d ${fq(short(c.summary))}`);
    for (const o of n.options) {
      const flags = o.names.map((name) => (name.startsWith('--') ? `-l ${fq(name.slice(2))}` : `-s ${fq(name.slice(1))}`)).join(' ');
      lines.push(`    complete -c $prog -n ${at(n.path)} ${flags}${o.value === null ? '' : ` ${valueArgs(o.value)}`} -d ${fq(short(o.description))}`);
    }
    if (n.children.length === 0 && n.args.kind !== 'none') {
      const a = n.args;
      lines.push(`    complete -c $prog -n ${at(n.path)} ${a.kind === 'file' ? '-F' : a.kind === 'dir' ? `-a ${fq('(__fish_complete_directories)')}` : a.kind === 'words' ? `-a ${fq(a.words.join(' '))}` : ''}`);
    }
  }
  return `# fish completion for ${PROGRAMS.join(' and ')}, generated by 'stax completion fish' from the
# command registry. Load it in this shell:
#   stax completion fish | source
# or for every shell:
#   stax completion fish > ~/.config/fish/completions/stax.fish
#   stax completion fish > ~/.config/fish/completions/tracehound.fish

set -g __stax_edges ${edges.map(fq).join(' ')}
set -g __stax_valued ${valued.map(fq).join(' ')}

# The command path in the words before the cursor: "", "verify", "trail show"...
function __stax_node
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l node ''
    set -l skip 0
    for word in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case '-*=*'
            case '-*'
                if contains -- "$node|$word" $__stax_valued
                    set skip 1
                end
            case '*'
                if contains -- "$node|$word" $__stax_edges
                    set node (string trim -- "$node $word")
                end
        end
    end
    echo $node
end

# Is the cursor at this command path? No argument: at the program itself.
function __stax_at
    set -l node (__stax_node)
    test "$node" = "$argv"
end

for prog in ${PROGRAMS.join(' ')}
    complete -c $prog -f
${lines.join('\n')}
end
`;
}
