#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Puts a fragment of ours into an existing kernel file, between markers.

Idempotent: the block is replaced when the fragment changed, left alone
otherwise, and the file is written only when its text changes (so make
sees no change).  A missing file is created with an SPDX line.
"""
import argparse
import os
import sys

BEGIN = '# >>> vcm: from harness/kernel-edits/%s (do not edit here)\n'
END = '# <<< vcm\n'


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('target')
    ap.add_argument('fragment')
    ap.add_argument('--before-last', metavar='LINE',
                    help='insert before the last line equal to LINE '
                         '(default: append)')
    args = ap.parse_args()

    with open(args.fragment) as f:
        text = f.read()
    if not text.endswith('\n'):
        text += '\n'
    block = (BEGIN % os.path.basename(args.fragment)) + text + END
    try:
        with open(args.target) as f:
            lines = f.readlines()
    except FileNotFoundError:
        os.makedirs(os.path.dirname(args.target), exist_ok=True)
        lines = ['# SPDX-License-Identifier: GPL-2.0\n']
    old = ''.join(lines)

    begin = next((i for i, l in enumerate(lines) if l.startswith('# >>> vcm:')), None)
    if begin is not None:
        end = next((i for i in range(begin, len(lines)) if lines[i] == END), None)
        if end is None:
            print('%s: our block has no end marker "%s"; restore the file'
                  ' (for the Debian tree: delete the cache to unpack it again)'
                  % (args.target, END.strip()), file=sys.stderr)
            return 1
        lines[begin:end + 1] = [block]
    elif args.before_last:
        at = max((i for i, l in enumerate(lines)
                  if l.strip() == args.before_last), default=None)
        if at is None:
            print('%s: no line "%s" to insert before' %
                  (args.target, args.before_last), file=sys.stderr)
            return 1
        lines[at:at] = [block, '\n']
    else:
        if lines and not lines[-1].endswith('\n'):
            lines[-1] += '\n'
        lines += ['\n', block]

    new = ''.join(lines)
    if new != old:
        # Atomically: an interrupted run never leaves a half-written file.
        tmp = args.target + '.vcm-tmp'
        with open(tmp, 'w') as f:
            f.write(new)
        if os.path.exists(args.target):
            os.chmod(tmp, os.stat(args.target).st_mode)
        os.replace(tmp, args.target)
    return 0


if __name__ == '__main__':
    sys.exit(main())
