#!/usr/bin/env python3
"""The C++ examples of the documentation, compiled as part of the build (issue 15 item 5).

    readme_examples.py generate OUTDIR SLOTS FILE.md...
    readme_examples.py check BINARY FILE.md...

Every fenced block tagged ```cpp in FILE.md is compiled and linked against the library,
with the library's own flags: meson builds what `generate` writes into OUTDIR as part of the
normal build (tests/readme/meson.build). The convention:

- A block with a line starting with `int main(` is a *program*: compiled exactly as
  written, as a translation unit and an executable of its own (readme_program_N.cpp, N =
  1..SLOTS; an unused slot holds an empty main). So its #include lines must suffice.
- Any other block is a *fragment*: the statements of a coroutine body, compiled in
  readme_fragments.cpp after `#include <mongowire/client.hpp>` and `<mongowire/test_server.hpp>`,
  the Asio cancellation headers, <chrono>, <cstdio>, <string> and <vector>, with
  `namespace asio = boost::asio; using namespace mongowire;`, and with these names in scope:
      asio::any_io_executor ex;  client& c;  session& s;  collection& coll;
      bson::document& filter;  std::vector<bson::document>& docs;  diagnostics& diag;
      asio::cancellation_signal& signal;
  A fragment's own #include lines go to the top of the file. A fragment that needs
  declarations at namespace scope must be written as a program.
- No block is skipped: an example that cannot compile is fixed in the documentation.

#line directives make compiler errors point at FILE.md. The fragments' binary
(`readme-examples`) prints one line per compiled block, programs included (file:line, kind,
sha1 of the block); `check` lints the fences (a closing fence with text after it, an
unclosed fence, an untagged block that looks like C++) and compares that list with the
blocks the files hold now (by content: a block that only moved needs no rebuild), so it
fails when an example was added, changed or removed since the binaries were built, or
escapes compilation. The programs are built, not run (they
need a server).
"""
import collections
import hashlib
import pathlib
import re
import subprocess
import sys

FENCE = re.compile(r'^(```+|~~~+)(.*)$')
LOOKS_LIKE_CPP = re.compile(r'co_await|#include\s*<|\bmongowire::|\bstd::|\basio::')
MAIN = re.compile(r'^int main\(')

FRAGMENT_PRELUDE = '''\
#include <mongowire/client.hpp>
#include <mongowire/test_server.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
'''

FRAGMENT_PARAMETERS = ('asio::any_io_executor ex', 'client& c', 'session& s', 'collection& coll',
                       'bson::document& filter', 'std::vector<bson::document>& docs', 'diagnostics& diag',
                       'asio::cancellation_signal& signal')


class Block:
    def __init__(self, path, line, tag, lines):
        self.path, self.line, self.tag, self.lines = path, line, tag, lines  # line: the first code line

    @property
    def kind(self):
        return 'program' if any(MAIN.match(l) for l in self.lines) else 'fragment'

    @property
    def name(self):
        return f'{pathlib.Path(self.path).name}:{self.line}'

    def manifest_line(self):
        digest = hashlib.sha1('\n'.join(self.lines).encode()).hexdigest()
        return f'{self.name} {self.kind} {digest}'


def scan(path):
    """Returns (every fenced block, lint errors) of a markdown file."""
    blocks, errors = [], []
    lines = pathlib.Path(path).read_text().split('\n')
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        marker, tag, start = m.group(1), m.group(2).strip(), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith(marker):
            j += 1
        if j == len(lines):
            errors.append(f'{path}:{i + 1}: fenced block never closed')
            break
        if lines[j].strip() != marker:
            errors.append(f'{path}:{j + 1}: text after a closing fence (put it on its own line)')
        blocks.append(Block(path, start + 1, tag, lines[start:j]))
        i = j + 1
    for b in blocks:
        if b.tag in ('c++', 'C++', 'cxx', 'cc', 'hpp') or (not b.tag and LOOKS_LIKE_CPP.search('\n'.join(b.lines))):
            errors.append(f'{b.path}:{b.line - 1}: C++ example fenced as ```{b.tag}: tag it ```cpp so that it is compiled')
    return blocks, errors


def cpp_blocks(paths):
    blocks, errors = [], []
    for p in paths:
        found, errs = scan(p)
        blocks += [b for b in found if b.tag == 'cpp']
        errors += errs
    return blocks, errors


class Writer:
    """Generated C++ with #line directives: the block's lines map to the markdown file."""

    def __init__(self, out):
        self.out, self.text = out, []

    def emit(self, line=''):
        self.text.append(line)

    def emit_block(self, block, body):
        self.emit(f'#line {block.line} "{block.path}"')
        self.text += body
        self.emit(f'#line {len(self.text) + 2} "{self.out}"')

    def save(self):
        data = '\n'.join(self.text) + '\n'
        p = pathlib.Path(self.out)
        if not p.exists() or p.read_text() != data:
            p.write_text(data)


def split_includes(lines):
    includes = [l for l in lines if l.lstrip().startswith('#include')]
    return includes, [('' if l.lstrip().startswith('#include') else l) for l in lines]


def ident(block):
    return 'readme_' + re.sub(r'\W', '_', block.name)


def generate_program(out, program):
    w = Writer(out)
    w.emit('// Generated by tests/readme/readme_examples.py from the documentation: do not edit.')
    if program:
        w.emit_block(program, program.lines)
    else:
        w.emit('int main() {}  // no program in this slot')
    w.save()


def generate_fragments(out, fragments, all_blocks):
    w = Writer(out)
    w.emit('// Generated by tests/readme/readme_examples.py from the documentation: do not edit.')
    for line in FRAGMENT_PRELUDE.split('\n'):
        w.emit(line)
    for b in fragments:
        for i in split_includes(b.lines)[0]:
            w.emit(i)
    w.emit('namespace asio = boost::asio;')
    w.emit('using namespace mongowire;')
    params = ', '.join('[[maybe_unused]] ' + p for p in FRAGMENT_PARAMETERS)
    for b in fragments:
        w.emit(f'asio::awaitable<void> {ident(b)}({params}) {{')
        w.emit('{')
        w.emit_block(b, split_includes(b.lines)[1])
        w.emit('}')
        w.emit('co_return;')
        w.emit('}')
    w.emit('// What the readme binaries compiled: `check` compares it with the documentation as it is now.')
    w.emit('int main() {')
    for b in all_blocks:
        w.emit(f'  std::puts("{b.manifest_line()}");')
    w.emit('}')
    w.save()


def generate(outdir, slots, paths):
    blocks, errors = cpp_blocks(paths)
    programs = [b for b in blocks if b.kind == 'program']
    if len(programs) > slots:
        errors.append(f'{len(programs)} C++ programs in the documentation, {slots} slots: raise '
                      'readme_program_slots in tests/readme/meson.build')
    if errors:
        print('\n'.join(errors), file=sys.stderr)
        return 1
    out = pathlib.Path(outdir)
    generate_fragments(str(out / 'readme_fragments.cpp'), [b for b in blocks if b.kind == 'fragment'], blocks)
    for n in range(slots):
        generate_program(str(out / f'readme_program_{n + 1}.cpp'), programs[n] if n < len(programs) else None)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[0] == 'generate':
        return generate(argv[1], int(argv[2]), argv[3:])
    if len(argv) >= 3 and argv[0] == 'check':
        blocks, errors = cpp_blocks(argv[2:])
        expected = [b.manifest_line() for b in blocks]
        compiled = subprocess.run([argv[1]], capture_output=True, text=True, check=True).stdout.split('\n')[:-1]
        # A block is the same block wherever it moved: prose edits above it need no rebuild.
        key = lambda line: re.sub(r':\d+ ', ' ', line)
        missing = collections.Counter(map(key, expected)) - collections.Counter(map(key, compiled))
        stale = collections.Counter(map(key, compiled)) - collections.Counter(map(key, expected))
        errors += [f'not compiled (rebuild readme-examples): {l}' for l in expected if missing[key(l)]]
        errors += [f'compiled but no longer in the documentation (rebuild): {l}' for l in compiled if stale[key(l)]]
        print('\n'.join(errors) if errors else f'{len(expected)} C++ examples compiled, fences well-formed')
        return 1 if errors else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
