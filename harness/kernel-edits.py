#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Puts harness/kernel-edits/ into a kernel tree, as kernel-edits/places says.

Usage: kernel-edits.py TREE [--plain] [--files LIST] [--without SYMBOL...]
                       [--author "NAME <EMAIL>"]

Our files in TREE are those LIST names (default: TREE/.vcm-files, from
common.sh's overlay).  A Makefile line goes in when a file it builds is
there; a Kconfig entry when a Makefile line that goes in names its
symbol, or, for a symbol none names, unless --without names it; an F:
line with its file.  A Makefile line the kernel has already stays out.
Without --plain (make test, run, bench) our text goes between markers,
replaced there on the next run, and a file is written only if it
changes; make patches (--plain) applies it to each step's pristine tree.
"""
import argparse
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
EDITS = os.path.join(HERE, 'kernel-edits')
BEGIN = '# >>> vcm: from harness/kernel-edits/%s (do not edit here)'
END = '# <<< vcm'


def units(path, lines):
    """The pieces of a fragment that go in, or not, one by one."""
    if os.path.basename(path) == 'Kconfig':
        start = re.compile(r'^(menu)?config\s')
    else:
        start = re.compile(r'^(obj|subdir)-')
    out = [[]]
    for line in lines:
        if start.match(line) and any(not l.startswith('#') for l in out[-1]):
            # A comment right above a piece is the piece's.
            lead = []
            while out[-1] and out[-1][-1].startswith('#'):
                lead.insert(0, out[-1].pop())
            out.append(lead)
        out[-1].append(line)
    return [u for u in out if u]


def built(path, unit, ours):
    """None if the Makefile piece names no object, else whether one of
    the objects it names is of a file of ours."""
    d = os.path.dirname(path)
    toks = [t for l in unit if not l.startswith('#')
            for t in re.split(r'[:+]?=', l, maxsplit=1)[-1].split()]
    toks = [t for t in toks if t.endswith(('.o', '/'))]
    if not toks:
        return None
    stems = [os.path.normpath(os.path.join(d, t)) for t in toks]
    return any(s[:-2] + '.c' in ours if s.endswith('.o') else
               any(f.startswith(s + '/') for f in ours) for s in stems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tree')
    ap.add_argument('--plain', action='store_true')
    ap.add_argument('--files')
    ap.add_argument('--without', nargs='*', default=[])
    ap.add_argument('--author')
    args = ap.parse_args()
    with open(args.files or os.path.join(args.tree, '.vcm-files')) as f:
        ours = set(f.read().split())
    with open(os.path.join(EDITS, 'places')) as f:
        places = [l.split(None, 1) for l in f if l.strip() and not l.startswith('#')]
    places = [(p, w.strip(), open(os.path.join(EDITS, p)).read().splitlines())
              for p, w in places]

    # The Makefile pieces first: which Kconfig symbols they build.
    named, wanted, texts = set(), set(), {}
    for path, _, lines in places:
        if os.path.basename(path) == 'Makefile':
            texts[path] = []
            for u in units(path, lines):
                syms = set(re.findall(r'\$\(CONFIG_(\w+)\)', '\n'.join(u)))
                named |= syms
                if built(path, u, ours) is not False:
                    wanted |= syms
                    texts[path] += u
    for path, where, lines in places:
        if os.path.basename(path) == 'Kconfig':
            texts[path] = []
            for u in units(path, lines):
                sym = [re.match(r'^(?:menu)?config\s+(\w+)', l) for l in u]
                sym = next((m.group(1) for m in sym if m), None)
                if sym in wanted or (sym not in named and
                                     'CONFIG_' + str(sym) not in args.without):
                    texts[path] += u
        elif where == 'sorted':
            texts[path] = [('M:\t' + args.author) if args.author and l.startswith('M:')
                           else l for l in lines] + ['F:\t' + f for f in sorted(ours)]
    for path, where, _ in places:
        apply(os.path.join(args.tree, path), path, where, texts[path], args.plain)


def apply(target, path, where, text, plain):
    try:
        with open(target) as f:
            old = f.read()
    except FileNotFoundError:
        old = None
    lines = (old or '').splitlines()
    # Ours, or an older harness's (the begin line named the fragment).
    begin = next((i for i, l in enumerate(lines) if l.startswith(BEGIN[:30])), None)
    mine = set(lines[begin:lines.index(END, begin) + 1]) if begin is not None else set()
    # A line the kernel has already (lib/tests/ since 6.15) is not ours to add.
    if os.path.basename(path) == 'Makefile':
        text = [l for l in text if l.startswith('#') or l not in set(lines) - mine]
    while text and not text[-1].strip():
        text.pop()
    if not plain and text:
        text = [BEGIN % path] + text + [END]
    if begin is not None:
        lines[begin:lines.index(END, begin) + 1] = text
    elif not text:
        return
    elif old is None:
        lines = ['# SPDX-License-Identifier: GPL-2.0', ''] + text
    elif where == 'end':
        lines += ([''] if lines and lines[-1].strip() else []) + text
    else:
        if where == 'sorted':
            title = text[1 if not plain else 0].upper()
            at = next(i for i in range(1, len(lines) - 1)
                      if not lines[i - 1] and re.match(r'^[A-Z]:\t', lines[i + 1])
                      and lines[i].upper() > title)
        else:
            at = max(i for i, l in enumerate(lines) if l.strip() == where.split(None, 1)[1])
        lines[at:at] = ([''] if lines[at - 1].strip() else []) + text + ['']
    new = '\n'.join(lines) + '\n'
    if new != old:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target + '.vcm-tmp', 'w') as f:
            f.write(new)
        os.replace(target + '.vcm-tmp', target)


if __name__ == '__main__':
    main()
