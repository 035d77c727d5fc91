#!/usr/bin/env python3
"""Lists functions longer than a limit (default 60 lines) in C++ sources; exits 1 if any.

    check_function_length.py [--limit=N] [DIR...]   (default: src include)

A heuristic scanner, not a parser: a function body starts at a line ending in '{' whose
text (with the lines of its signature) has a parameter list and is not a control
statement, class, namespace, lambda or initializer; the body ends at the matching brace.
Comments and string literals are blanked first so their braces do not count.
"""
import re, sys, pathlib

CONTROL = re.compile(r'^\s*(if|else|for|while|switch|do|try|catch|namespace|class|struct|union|enum|extern)\b')

def blank(text):
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i); j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(')' + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (j - i - 1) + c if j < n else text[i:]); i = j + 1
        else:
            out.append(c); i += 1
    return ''.join(out)

def functions(path):
    lines = blank(path.read_text(errors='replace')).split('\n')
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i
        while start > 0 and i - start < 6 and lines[start - 1].strip() and lines[start - 1].rstrip()[-1] not in ';{}' \
                and not lines[start - 1].lstrip().startswith('#'):
            start -= 1
        if line.rstrip().endswith('{') and '(' in ''.join(lines[start:i + 1]):
            head = line.strip()
            sig = ' '.join(l.strip() for l in lines[start:i + 1])
            is_fn = (')' in head or head.startswith(':') or head.startswith(',') or re.search(r'\)\s*(const|noexcept|override|final|->[^{]*)?\s*\{$', sig)) \
                and not CONTROL.match(head) and '=' not in head.split('(')[0] and not re.search(r'\]\s*\(.*\)\s*(mutable\s*)?(->.*)?\{$', head) \
                and not head.startswith('}') and not re.search(r'(\[&?\]|\[=\]|\[this\]|\[[a-z_&=, ]+\])\s*(\(.*\))?\s*(mutable)?\s*(->.*)?\{$', head) \
                and not re.match(r'^\s*return\b', head)
            indent = len(lines[start]) - len(lines[start].lstrip())
            if is_fn and indent <= 2:
                depth, j = 0, i
                while j < len(lines):
                    depth += lines[j].count('{') - lines[j].count('}')
                    if depth <= 0: break
                    j += 1
                name = re.search(r'([~\w:]+)\s*\(', sig)
                yield (name.group(1) if name else head[:40]), i + 1, j - i + 1
                i = j
        i += 1

def main():
    limit = 60
    args = sys.argv[1:]
    if args and args[0].startswith('--limit='):
        limit = int(args.pop(0).split('=')[1])
    long = []
    for root in args or ['src', 'include']:
        for p in sorted(pathlib.Path(root).rglob('*')):
            if p.suffix in ('.cpp', '.hpp', '.h'):
                long += [(n, p, l, ln) for n, l, ln in functions(p) if ln > limit]
    for n, p, l, ln in sorted(long, key=lambda x: -x[3]):
        print(f'{p}:{l}: {n} is {ln} lines')
    print(f'{len(long)} function(s) longer than {limit} lines')
    return 1 if long else 0

sys.exit(main())
