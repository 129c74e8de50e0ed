#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Splits this repository's kernel files into the steps of a patch series.

Part of make patches (harness/patches.sh), which lays our files over a
copy of the pristine kernel files with common.sh's overlay and hands both
trees here.  Nothing here knows what a file says: which file goes into
which patch comes from the Files: lines of harness/series/NN-*.txt; the
Kconfig entries and Makefile lines of harness/kernel-edits/ go with the
patch whose files they build (obj-$(CONFIG_X) += file.o), or which
mentions their symbol first, or which names it in a Kconfig: line.  The
files of the steps before one with a Diff: or an Unifdef: are ours with
its diff taken out (git apply -R) or its symbol (unifdef).

  generate  writes, for every patch k, the tree after patches 1..k, its
            commit message, the Kconfig symbols and objects it has, and
            the cover letter's text.
  cover     fills format-patch's cover letter template.
  maintainers  puts a step's MAINTAINERS section into another tree's
            MAINTAINERS, for the series rebased there (patches.sh).
  same      fails unless two series differ only in their MAINTAINERS
            hunks (and index lines, line numbers and diffstats).

Where an existing kernel file gets a block, the block goes at the place
nearest to where overlay puts it, at the same Kconfig or make nesting,
whose context is the same in every other tree the series must apply to
(6.1), so that git am applies it there too.  MAINTAINERS gets a section
of our files, created by the first patch and extended by the later ones
(checkpatch asks for it when files are added).
"""
import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

BEGIN_PREFIX = '# >>> vcm: from harness/kernel-edits/'
END_LINE = '# <<< vcm'
CONTEXT = 4     # format-patch uses 3 lines; one more for diff's slides
WIDTH = 72      # commit message lines (checkpatch warns past 75)


class SeriesError(Exception):
    pass


def die(msg):
    raise SeriesError(msg)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def lines_of(text):
    if not text:
        return []
    return text.split('\n')[:-1] if text.endswith('\n') else text.split('\n')


def text_of(lines):
    return ''.join(line + '\n' for line in lines)


def walk_files(top):
    out = set()
    for d, _, files in os.walk(top):
        for name in files:
            out.add(os.path.relpath(os.path.join(d, name), top))
    return out


# --- harness/series/*.txt -------------------------------------------------

class Step:
    """One harness/series/NN-name.txt: a patch, or a step folded away."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.fields = {}
        text = read(path)
        lines = lines_of(text)
        i = 0
        key = None
        while i < len(lines) and lines[i].strip():
            line = lines[i]
            i += 1
            if line.startswith('#'):
                continue
            m = re.match(r'^([A-Za-z-]+):\s*(.*)$', line)
            if m:
                key = m.group(1).lower()
                self.fields[key] = m.group(2).strip()
            elif key and line[:1].isspace():
                self.fields[key] += ' ' + line.strip()
            else:
                die('%s: "%s" is not a "Field: value" header line' %
                    (path, line))
        self.body = text_of(lines[i:]).strip('\n')
        self.subject = self.fields.get('subject', '')
        self.patterns = self.fields.get('files', '').split()
        self.kconfig = self.fields.get('kconfig', '').split()
        self.unifdef = self.fields.get('unifdef', '').split()
        self.skip = self.fields.get('skip')
        # Diff: a file beside this one.
        self.diff = self.fields.get('diff')
        self.diff_path = None
        self.changes = []       # the files the Diff: changes, by generate
        unknown = set(self.fields) - {'subject', 'files', 'kconfig',
                                      'unifdef', 'skip', 'diff'}
        if unknown:
            die('%s: unknown field(s) %s' % (path, ', '.join(sorted(unknown))))
        if not self.skip and not self.subject:
            die('%s: no Subject:' % path)
        if self.diff:
            if self.skip:
                die('%s: a Skip: step has no Diff:' % path)
            self.diff_path = os.path.join(os.path.dirname(path), self.diff)
            if not os.path.isfile(self.diff_path):
                die('%s: Diff: %s: no such file' % (path, self.diff_path))
        for sym in self.unifdef:
            if not sym.startswith('CONFIG_'):
                die('%s: Unifdef: %s is not a CONFIG_ symbol' % (path, sym))


def load_steps(series_dir):
    names = sorted(n for n in os.listdir(series_dir)
                   if re.match(r'^[0-9]+-.*\.txt$', n))
    if not names:
        die('no NN-name.txt in %s' % series_dir)
    return [Step(os.path.join(series_dir, n)) for n in names]


def pattern_weight(pattern):
    """Exact paths beat globs; a longer glob beats a shorter one."""
    if not re.search(r'[*?\[]', pattern):
        return (1, len(pattern))
    return (0, len(pattern.replace('*', '').replace('?', '')))


def assign_files(steps, files):
    """{file: index into steps} from the Files: patterns."""
    owner = {}
    for f in sorted(files):
        best = []
        for k, step in enumerate(steps):
            for p in step.patterns:
                if fnmatch.fnmatchcase(f, p):
                    best.append((pattern_weight(p), k, p))
        if not best:
            die('%s is in no patch: add it to a Files: line of a '
                'harness/series/NN-*.txt' % f)
        best.sort(reverse=True)
        if len(best) > 1 and best[0][0] == best[1][0] and best[0][1] != best[1][1]:
            die('%s is claimed alike by %s (%s) and %s (%s)' %
                (f, steps[best[0][1]].name, best[0][2],
                 steps[best[1][1]].name, best[1][2]))
        owner[f] = best[0][1]
    return owner


# --- blocks of harness/kernel-edits/ in existing kernel files -------------

def kind_of(path):
    base = os.path.basename(path)
    if base.startswith('Kconfig'):
        return 'kconfig'
    if base.startswith(('Makefile', 'Kbuild')):
        return 'make'
    return 'other'


def nesting(lines, kind):
    """The stack of open if/menu blocks before each line (and at the end)."""
    if kind == 'kconfig':
        opener = re.compile(r'^(if|menu|choice)(\s|$)')
        closer = re.compile(r'^(endif|endmenu|endchoice)(\s|$)')
    elif kind == 'make':
        opener = re.compile(r'^\s*(ifeq|ifneq|ifdef|ifndef|define)(\s|$)')
        closer = re.compile(r'^\s*(endif|endef)(\s|$)')
    else:
        return [()] * (len(lines) + 1)
    stack = []
    out = []
    for i, line in enumerate(lines):
        out.append(tuple(stack))
        if opener.match(line):
            stack.append(i)
        elif closer.match(line) and stack:
            stack.pop()
    out.append(tuple(stack))
    return out


def is_boundary(lines, p, kind):
    """May a block go before line p?  Never before the SPDX line."""
    if p == 0:
        return False
    if kind == 'kconfig':
        # Between entries: after a blank line, before a line at column 0
        # (help text is indented, and may hold blank lines).
        if lines[p - 1].strip():
            return False
        return p == len(lines) or bool(re.match(r'^[a-z#]', lines[p]))
    if kind == 'make':
        # Not inside a continued line, nor under a comment, which is about
        # the lines that follow it.
        return not (lines[p - 1].endswith('\\') or
                    lines[p - 1].lstrip().startswith('#'))
    return False


def neighbours(lines, p, kind):
    """The Kconfig symbols of the entries or lines on each side of p."""
    pat = (r'^(?:menu)?config\s+(\w+)' if kind == 'kconfig'
           else r'^[^#]*\$\(CONFIG_(\w+)\)')
    before = after = None
    for line in reversed(lines[:p]):
        m = re.match(pat, line)
        if m:
            before = m.group(1)
            break
        if kind == 'make' and line.strip():
            break
    for line in lines[p:]:
        m = re.match(pat, line)
        if m:
            after = m.group(1)
            break
        if kind == 'make' and line.strip() and not line.startswith('#'):
            break
    return before, after


def splits_family(lines, p, kind):
    """Would a block at p split entries of one family (LRU_GEN_*)?"""
    before, after = neighbours(lines, p, kind)
    return bool(before and after and
                before.split('_')[0] == after.split('_')[0])


def occurrences(hay, needle):
    n = len(needle)
    return [j for j in range(len(hay) - n + 1) if hay[j:j + n] == needle]


def common_context(pristine, p, others, context=CONTEXT):
    """Is the context of position p the same, once, in every other tree?"""
    lo, hi = max(0, p - context), min(len(pristine), p + context)
    window = pristine[lo:hi]
    for other in others:
        if other is None:
            continue
        at = occurrences(other, window)
        if lo == 0:
            at = [j for j in at if j == 0]
        if hi == len(pristine):
            at = [j for j in at if j + len(window) == len(other)]
        if len(at) != 1:
            return False
    return True


class Block:
    """Our block in one existing (or created) kernel file."""

    def __init__(self, path, pristine_text, final_text, others):
        self.path = path
        self.kind = kind_of(path)
        self.created = pristine_text is None
        pristine = lines_of(pristine_text or '')
        final = lines_of(final_text)
        begins = [i for i, l in enumerate(final) if l.startswith(BEGIN_PREFIX)]
        if len(begins) != 1:
            die('%s: expected one block of harness/kernel-edits/ in it, '
                'found %d' % (path, len(begins)))
        b = begins[0]
        try:
            e = final.index(END_LINE, b)
        except ValueError:
            die('%s: block without its end marker' % path)
        self.fragment = final[b][len(BEGIN_PREFIX):].split()[0]
        self.lines = final[b + 1:e]
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        while self.lines and not self.lines[0].strip():
            self.lines.pop(0)

        prefix = 0
        while (prefix < min(len(pristine), b) and
               final[prefix] == pristine[prefix]):
            prefix += 1
        suffix = 0
        while (suffix < min(len(pristine) - prefix, len(final) - 1 - e) and
               final[-1 - suffix] == pristine[-1 - suffix]):
            suffix += 1
        if final[:prefix] + final[len(final) - suffix:] != pristine:
            die('%s: overlay changed it outside its block' % path)
        self.pristine = pristine
        self.natural = prefix
        # A created file keeps what overlay writes around the block.
        self.head = final[prefix:b]
        self.tail = final[e + 1:len(final) - suffix]
        self.at = self.natural
        self.moved = None
        if not self.created and self.kind != 'other':
            self.at = self.place(others)

    def place(self, others):
        """The position nearest overlay's whose context others share."""
        nest = nesting(self.pristine, self.kind)
        want = nest[self.natural]
        cands = [p for p in range(len(self.pristine) + 1)
                 if nest[p] == want and is_boundary(self.pristine, p, self.kind)
                 and not splits_family(self.pristine, p, self.kind)]
        if self.natural not in cands:
            cands.append(self.natural)
        cands.sort(key=lambda p: (abs(p - self.natural), -p))
        # Without the spare line if need be: diff rarely slides a hunk.
        for context in (CONTEXT, CONTEXT - 1):
            for p in cands:
                if common_context(self.pristine, p, others, context):
                    if p != self.natural:
                        self.moved = (self.natural, p)
                    return p
        self.moved = (self.natural, None)
        return self.natural

    def units(self):
        """[(start, end, symbols, text)]: the pieces one patch can add."""
        lines = self.lines
        if self.kind == 'kconfig':
            starts = [i for i, l in enumerate(lines)
                      if re.match(r'^(menu)?config\s+\w+', l)]
            odd = [l for l in lines
                   if l and not l[0].isspace() and not l.startswith('#') and
                   not re.match(r'^(menu)?config\s', l)]
            if odd or not starts:
                # if/menu/source in the fragment: it goes as one piece.
                return [(0, len(lines))]
        elif self.kind == 'make':
            starts = []
            for i, l in enumerate(lines):
                if (l.strip() and not l.lstrip().startswith('#') and
                        (i == 0 or not lines[i - 1].endswith('\\'))):
                    starts.append(i)
            if not starts:
                return [(0, len(lines))]
        else:
            return [(0, len(lines))]
        # A comment right above a piece belongs to it.
        bounds = []
        for s in starts:
            while s > 0 and lines[s - 1].lstrip().startswith('#'):
                s -= 1
            bounds.append(s)
        bounds[0] = 0
        return [(bounds[i], bounds[i + 1] if i + 1 < len(bounds) else len(lines))
                for i in range(len(bounds))]

    def render(self, chosen):
        """The file's lines with the chosen units; None if it has none."""
        body = []
        for s, e in chosen:
            body += self.lines[s:e]
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if not body:
            return None if self.created else self.pristine
        if self.created:
            return self.head + body + self.tail
        p = self.at
        prev = self.pristine[p - 1] if p > 0 else ''
        nxt = self.pristine[p] if p < len(self.pristine) else ''
        if (self.kind == 'make' and prev.strip() and nxt.strip() and
                not prev.startswith('#') and not nxt.startswith('#')):
            # In the middle of a list of lines: one more line of it.
            return self.pristine[:p] + body + self.pristine[p:]
        before = [''] if prev.strip() else []
        after = [''] if nxt.strip() else []
        return self.pristine[:p] + before + body + after + self.pristine[p:]


def unit_symbols(lines):
    text = '\n'.join(lines)
    return re.findall(r'^(?:menu)?config\s+(\w+)', text, re.M)


def make_references(block, lines, our_files):
    """CONFIG_ symbols and our files a Makefile piece names."""
    text = ' '.join(l.rstrip('\\') for l in lines if not l.lstrip().startswith('#'))
    syms = re.findall(r'\$\(CONFIG_(\w+)\)', text)
    files = set()
    rhs = re.split(r'[:+]?=', text, maxsplit=1)
    if len(rhs) == 2:
        base = os.path.dirname(block.path)
        for tok in rhs[1].split():
            path = os.path.normpath(os.path.join(base, tok))
            if tok.endswith('.o'):
                stem = path[:-2]
                files |= {f for f in our_files if os.path.splitext(f)[0] == stem}
            else:
                # dir/, or a bare dir (subdir-y += dir)
                files |= {f for f in our_files if f.startswith(path + '/')}
    return syms, files


# --- MAINTAINERS ------------------------------------------------------------

def maintainers_section(template, files, ident):
    head = [l.replace('@AUTHOR@', ident) for l in lines_of(template)
            if l.strip() and not l.startswith('#')]
    if not head or re.match(r'^[A-Z]:\t', head[0]):
        die('harness/series/maintainers.txt: the first line is the title')
    return head + ['F:\t' + f for f in sorted(files)]


def maintainers_position(lines, title):
    """Before which line the section goes: the best alphabetical gap."""
    starts = [i for i in range(1, len(lines) - 1)
              if lines[i] and not lines[i - 1] and
              re.match(r'^[A-Z]:\t', lines[i + 1]) and
              not re.match(r'^[A-Z]:\t', lines[i])]
    starts = [i for i in starts if lines[i] != 'THE REST']
    if not starts:
        die('MAINTAINERS: no sections found')
    key = title.upper()
    before = [lines[i].upper() <= key for i in starts]
    # Gap g: after starts[g-1], before starts[g]; count titles in order.
    ok_before = [0]
    for b in before:
        ok_before.append(ok_before[-1] + b)
    ok_after = [0] * (len(starts) + 1)
    for g in range(len(starts) - 1, -1, -1):
        ok_after[g] = ok_after[g + 1] + (not before[g])
    g = max(range(len(starts) + 1), key=lambda g: (ok_before[g] + ok_after[g], -g))
    if g == len(starts):
        i = starts[-1]
        while i < len(lines) and lines[i]:
            i += 1
        return i + 1
    return starts[g]


# --- unifdef ----------------------------------------------------------------

def without_symbols(text, symbols):
    """text as it reads before the patch that adds CONFIG_X blocks."""
    for sym in symbols:
        if not re.search(r'^\s*#\s*(if|elif).*\b%s\b' % sym, text, re.M):
            continue
        run = subprocess.run(['unifdef', '-U' + sym], input=text,
                             capture_output=True, text=True)
        if run.returncode not in (0, 1):
            die('unifdef -U%s failed: %s' % (sym, run.stderr.strip()))
        out = run.stdout
        # What unifdef leaves: two blank lines where a block went.
        out = re.sub(r'\n{3,}', '\n\n', out)
        text = out
    return text


# --- Diff: -----------------------------------------------------------------

def diff_files(step):
    """The files step's Diff: changes, checked to be changed in place."""
    files = []
    lines = lines_of(read(step.diff_path))
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r'^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@', line)
        if m:
            # Skip the hunk's lines, which may start with "---" too.
            old = int(m.group(1) or 1)
            new = int(m.group(2) or 1)
            while (old or new) and i < len(lines):
                tag = lines[i][:1] or ' '   # an empty context line
                old -= tag in ' -'
                new -= tag in ' +'
                i += 1
            continue
        if not line.startswith('--- '):
            continue
        if i == len(lines) or not lines[i].startswith('+++ '):
            die('%s:%d: "---" without a "+++" line after it' % (step.diff, i))
        # A path ends at a tab (diff -u's timestamp) or at the line's end.
        old = line[4:].split('\t')[0].strip()
        new = lines[i][4:].split('\t')[0].strip()
        i += 1
        if '/dev/null' in (old, new):
            die('%s:%d: it creates or deletes a file; a step adds files with '
                'Files:' % (step.diff, i))
        if not (old.startswith('a/') and new.startswith('b/')) or old[2:] != new[2:]:
            die('%s:%d: expected "--- a/PATH" and "+++ b/PATH" of one path, '
                'relative to the kernel tree' % (step.diff, i))
        files.append(new[2:])
    if not files:
        die('%s (Diff: of %s): no file in it' % (step.diff_path, step.name))
    return files


def take_out_diff(texts, step, files):
    """texts with step's Diff: (changing files) undone (git apply -R); dies
    if it fails."""
    with tempfile.TemporaryDirectory(prefix='vcm-series-') as tmp:
        for f in files:
            write(os.path.join(tmp, f), texts[f])
        env = dict(os.environ, GIT_CEILING_DIRECTORIES=os.path.dirname(tmp),
                   LC_ALL='C')
        run = subprocess.run(['git', 'apply', '-R', '--whitespace=nowarn',
                              os.path.abspath(step.diff_path)],
                             cwd=tmp, env=env, capture_output=True, text=True)
        if run.returncode:
            failed = sorted(set(re.findall(r'^error: patch failed: (.+):\d+$',
                                           run.stderr, re.M)))
            die('%s (Diff: of %s) no longer applies to %s, changed where '
                'the diff touches it since the diff was written: update the '
                'diff (see harness/series/README).  git apply -R says:\n%s' %
                (step.diff_path, step.name,
                 ' and '.join(failed) or ', '.join(files),
                 run.stderr.rstrip()))
        out = dict(texts)
        for f in files:
            out[f] = read(os.path.join(tmp, f))
    return out


# --- generate ---------------------------------------------------------------

def wrap(text, indent='', first=None):
    return textwrap.fill(text, WIDTH, initial_indent=indent if first is None else first,
                         subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)


def generate(args):
    steps_all = load_steps(args.series)
    steps = [s for s in steps_all if not s.skip]
    skipped = [s for s in steps_all if s.skip]

    pristine_files = walk_files(args.pristine)
    final_files = walk_files(args.final) - {'.vcm-files'}
    ours = set(lines_of(read(os.path.join(args.final, '.vcm-files'))))
    # A step none of whose files the repository has is left out.
    owner = assign_files(steps, ours)
    absent = [s for k, s in enumerate(steps) if k not in owner.values() and
              not s.kconfig and not s.unifdef and not s.diff]
    steps = [s for s in steps if s not in absent]
    others = [(name, path) for name, path in
              (o.split('=', 1) for o in args.other)]

    missing = pristine_files - final_files
    if missing:
        die('overlay removed %s' % ', '.join(sorted(missing)))
    blocks = []
    for f in sorted(final_files - ours):
        old = os.path.join(args.pristine, f)
        new = read(os.path.join(args.final, f))
        old_text = read(old) if f in pristine_files else None
        if old_text == new:
            continue
        other_lines = []
        for _, top in others:
            p = os.path.join(top, f)
            other_lines.append(lines_of(read(p)) if os.path.isfile(p) else None)
        blocks.append(Block(f, old_text, new, other_lines))

    owner = assign_files(steps, ours)
    present = [{f for f in ours if owner[f] <= k} for k in range(len(steps))]
    texts = {f: read(os.path.join(args.final, f)) for f in ours}

    # Our files after each step, before unifdef: the diffs of the later
    # steps taken out, the latest first.
    stage_texts = [None] * len(steps)
    cur = texts
    for k in range(len(steps) - 1, -1, -1):
        stage_texts[k] = cur
        if not steps[k].diff:
            continue
        steps[k].changes = diff_files(steps[k])
        for f in steps[k].changes:
            if f not in ours:
                die('%s (Diff: of %s) changes %s, which is not one of our '
                    'files' % (steps[k].diff_path, steps[k].name, f))
            if owner[f] >= k:
                die('%s (Diff: of %s) changes %s, which %s adds: a diff only '
                    'changes files of earlier steps' %
                    (steps[k].diff_path, steps[k].name, f, steps[owner[f]].name))
        cur = take_out_diff(cur, steps[k], steps[k].changes)

    # Kconfig symbols: named, built, or first mentioned.
    sym_owner = {}
    for k, step in enumerate(steps):
        for sym in step.kconfig + [s[len('CONFIG_'):] for s in step.unifdef]:
            if sym in sym_owner:
                die('Kconfig symbol %s is named by two patches' % sym)
            sym_owner[sym] = k
    pieces = []     # (block, (start, end), symbols defined, symbols used, files built)
    for block in blocks:
        for s, e in block.units():
            lines = block.lines[s:e]
            files = set()
            refs = []
            if block.kind == 'make':
                refs, files = make_references(block, lines, ours)
            pieces.append((block, (s, e), unit_symbols(lines), refs, files))
    for block, _, _, refs, files in pieces:
        if files:
            k = min(owner[f] for f in files)
            for sym in refs:
                sym_owner.setdefault(sym, k)
    defined = [sym for piece in pieces for sym in piece[2]]
    for sym in defined:
        if sym in sym_owner:
            continue
        users = [owner[f] for f in ours
                 if re.search(r'\bCONFIG_%s\b' % sym, texts[f])]
        if not users:
            die('Kconfig symbol %s: no patch builds a file with it, names it '
                'in a Kconfig: line, or has a file that uses it' % sym)
        sym_owner[sym] = min(users)

    piece_owner = []
    for block, span, syms, refs, files in pieces:
        ks = [sym_owner[s] for s in syms + refs if s in sym_owner]
        ks += [owner[f] for f in files]
        if not ks:
            die('%s: cannot tell which patch adds "%s"' %
                (block.path, block.lines[span[0]].strip()))
        piece_owner.append(min(ks) if block.kind == 'make' or not syms
                           else max(sym_owner[s] for s in syms))

    # A Kconfig entry may only depend on symbols that exist by then.
    for (block, span, syms, _, _), k in zip(pieces, piece_owner):
        if block.kind != 'kconfig':
            continue
        text = '\n'.join(block.lines[span[0]:span[1]])
        for dep in re.findall(r'^\s*(?:depends on|select|imply)\s+(.*)$', text, re.M):
            for sym in re.findall(r'\b([A-Z0-9_]+)\b', dep):
                if sym in sym_owner and sym_owner[sym] > k:
                    die('%s: %s (patch %d) refers to %s, added only by patch %d'
                        % (block.path, ', '.join(syms), k + 1, sym,
                           sym_owner[sym] + 1))

    # The trees.
    ident = '%s <%s>' % (args.name, args.email)
    template = read(os.path.join(args.series, 'maintainers.txt'))
    mpath = 'MAINTAINERS'
    mlines = lines_of(read(os.path.join(args.pristine, mpath)))
    title = maintainers_section(template, [], ident)[0]
    mat = maintainers_position(mlines, title)

    out = args.out
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    paths = set(ours) | {b.path for b in blocks} | {mpath}
    write(os.path.join(out, 'paths'), text_of(sorted(paths)))
    for k, step in enumerate(steps):
        tree = os.path.join(out, '%02d' % (k + 1))
        later = [u for s in steps[k + 1:] for u in s.unifdef]
        for f in sorted(present[k]):
            write(os.path.join(tree, f), without_symbols(stage_texts[k][f], later))
        for block in blocks:
            chosen = [span for (b, span, _, _, _), o in zip(pieces, piece_owner)
                      if b is block and o <= k]
            lines = block.render(chosen)
            if lines is not None:
                write(os.path.join(tree, block.path), text_of(lines))
        section = maintainers_section(template, present[k], ident)
        write(os.path.join(tree, mpath),
              text_of(mlines[:mat] + section + [''] + mlines[mat:]))
        write(os.path.join(out, '%02d.section' % (k + 1)), text_of(section))

        symbols = sorted({s for (b, span, syms, _, _), o in zip(pieces, piece_owner)
                          if o <= k for s in syms})
        objects = sorted(os.path.splitext(f)[0] + '.o' for f in present[k]
                         if f.endswith('.c'))
        write(os.path.join(out, '%02d.symbols' % (k + 1)), text_of(symbols))
        write(os.path.join(out, '%02d.objects' % (k + 1)), text_of(objects))
        msg = step.subject + '\n'
        if step.body:
            msg += '\n' + step.body + '\n'
        write(os.path.join(out, '%02d.msg' % (k + 1)), msg)

    # The cover letter: cover.txt, with the overview of the patches.
    cover = Step(os.path.join(args.series, 'cover.txt'))
    overview = ['The patches', '-----------', '']
    n = len(steps)
    for k, step in enumerate(steps):
        new = sorted(present[k] - (present[k - 1] if k else set()))
        syms = [s for (b, span, ss, _, _), o in zip(pieces, piece_owner)
                if o == k for s in ss]
        what = [', '.join(new)] if new else []
        if step.diff:
            what.append('changes ' + ', '.join(sorted(step.changes)))
        if syms:
            what.append('Kconfig: ' + ', '.join(syms))
        what = '; '.join(what)
        overview.append(wrap('%d/%d %s' % (k + 1, n, step.subject)))
        overview.append(wrap(what, '    '))
        overview.append('')
    if skipped:
        overview.append('Steps that are not patches of their own:')
        overview.append('')
        for step in skipped:
            overview.append(wrap(step.skip, '  ', '- '))
            overview.append('')
    body = cover.body
    block = text_of(overview).rstrip('\n')
    if '@OVERVIEW@' in body:
        body = body.replace('@OVERVIEW@', block)
    else:
        body += '\n\n' + block
    write(os.path.join(out, 'cover-subject'), cover.subject + '\n')
    write(os.path.join(out, 'cover-body'), body + '\n')

    # What the caller prints.
    report = []
    for step in absent:
        report.append('%s: none of its files is in the repository: left out'
                      % step.name)
    for step in skipped:
        report.append('%s: not a patch: %s' % (step.name, step.skip.split('. ')[0]))
    for block in blocks:
        if block.moved and block.moved[1] is None:
            report.append('%s: no place with the same context in %s: git am '
                          'may fail there' % (block.path,
                                               ' and '.join(n for n, _ in others)))
        elif block.moved:
            report.append('%s: block at line %d, not %d where overlay puts it '
                          '(same context in %s)' % (block.path, block.moved[1] + 1,
                                                    block.moved[0] + 1,
                                                    ' and '.join(n for n, _ in others)))
    write(os.path.join(out, 'notes'), text_of(report))
    write(os.path.join(out, 'count'), '%d\n' % n)
    return 0


def cover(args):
    """Fills format-patch's cover letter template."""
    text = read(args.letter)
    subject = read(args.subject).strip()
    body = read(args.body).rstrip('\n')
    if '*** SUBJECT HERE ***' not in text or '*** BLURB HERE ***' not in text:
        die('%s: not format-patch\'s template' % args.letter)
    text = text.replace('*** SUBJECT HERE ***', subject)
    text = text.replace('*** BLURB HERE ***', body)
    write(args.letter, text)
    return 0


def maintainers(args):
    """Prints a MAINTAINERS file with a section put in its place."""
    mlines = lines_of(read(args.maintainers))
    section = lines_of(read(args.section))
    if not section:
        die('%s: no section' % args.section)
    at = maintainers_position(mlines, section[0])
    sys.stdout.write(text_of(mlines[:at] + section + [''] + mlines[at:]))
    return 0


def patch_but_maintainers(path):
    """A patch's text without MAINTAINERS, commit ids, line numbers and
    diffstat: what must be the same in the series for another tree."""
    out, skip = [], False
    for line in lines_of(read(path)):
        if line.startswith('diff --git '):
            skip = line == 'diff --git a/MAINTAINERS b/MAINTAINERS'
        if (skip or line.startswith('index ') or re.match(r'^ \S+ +\| ', line)
                or re.match(r'^From [0-9a-f]{40} ', line)):
            continue
        # The line numbers, and the function name after them, are the tree's.
        out.append(re.sub(r'^@@ -[0-9,]+ \+[0-9,]+ @@.*', '@@', line))
    return out


def same(args):
    """Fails unless two series' patches differ only in MAINTAINERS."""
    if len(args.a) != len(args.b):
        die('%d patches against %d' % (len(args.a), len(args.b)))
    for a, b in zip(args.a, args.b):
        if patch_but_maintainers(a) != patch_but_maintainers(b):
            die('%s and %s differ outside MAINTAINERS' % (a, b))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    g = sub.add_parser('generate')
    g.add_argument('--series', required=True, help='harness/series')
    g.add_argument('--pristine', required=True, help='the pristine files')
    g.add_argument('--final', required=True, help='the same, overlaid')
    g.add_argument('--other', action='append', default=[],
                   help='NAME=TREE: another tree the series must apply to')
    g.add_argument('--name', required=True)
    g.add_argument('--email', required=True)
    g.add_argument('--out', required=True)
    c = sub.add_parser('cover')
    c.add_argument('--letter', required=True)
    c.add_argument('--subject', required=True)
    c.add_argument('--body', required=True)
    m = sub.add_parser('maintainers')
    m.add_argument('--maintainers', required=True, help='a MAINTAINERS file')
    m.add_argument('--section', required=True, help='NN.section of generate')
    s = sub.add_parser('same')
    s.add_argument('--a', nargs='+', required=True, help='patches')
    s.add_argument('--b', nargs='+', required=True, help='the same, rebased')
    args = ap.parse_args()
    cmds = {'generate': generate, 'cover': cover, 'maintainers': maintainers,
            'same': same}
    try:
        return cmds[args.cmd](args)
    except SeriesError as e:
        print('series: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
