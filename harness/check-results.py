#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the VCM KUnit runs: test counts from kunit.py's JSON, and splats
from the raw kernel log.

Usage: check-results.py NAME:BUILD_DIR:KUNIT_EXIT_CODE ...

For each configuration it prints "NAME: N passed, N failed, N skipped" and
every problem found; then the total line "N passed, N failed, N skipped".
It exits 1 when a test failed or crashed, kunit.py failed, no VCM test
ran, or the kernel log holds a splat (WARN, BUG, KASAN, lockdep,
refcount_t, list corruption, ...) outside a block where a test announced
that it expects one.  Tests announce those blocks with the lines
"vcm-kunit: expect-warning begin: PATTERN" and "vcm-kunit: expect-warning
end"; when PATTERN is not empty it must appear in the block.
"""
import json
import re
import sys

TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\]\s?')
SPLATS = [re.compile(p) for p in (
    r'^WARNING: ',                  # WARN*(), lockdep, RCU
    r'^-+\[ cut here \]-+',
    r'^BUG: ',                      # KASAN, sleeping in atomic, spinlocks
    r'^(Unable to handle kernel|Internal error:|Kernel panic|Oops)',
    r'refcount_t: ',
    r'^ODEBUG: ',
    r'list_(add|del) corruption',
    r'^UBSAN: ',
    r'^INFO: task .* blocked for more than',
    r'rcu: INFO: .* detected stalls',
    r'kmemleak: .* new suspected memory leaks',
)]
# What an announced warning may print; anything else still fails.
EXPECTED_KIND = re.compile(
    r'^(WARNING: CPU: |-+\[ cut here \]-+|refcount_t: )')
BEGIN = 'vcm-kunit: expect-warning begin:'
END = 'vcm-kunit: expect-warning end'


def leaves(group):
    for case in group.get('test_cases', []):
        yield group['name'], case
    for sub in group.get('sub_groups', []):
        yield from leaves(sub)


def count(path):
    """(passed, failed, skipped, vcm suites seen) from kunit.py's JSON."""
    with open(path) as f:
        root = json.load(f)
    passed = failed = skipped = 0
    suites = [g['name'] for g in root.get('sub_groups', [])]
    for _, case in leaves(root):
        if case['status'] == 'PASS':
            passed += 1
        elif case['status'] == 'SKIP':
            skipped += 1
        else:
            failed += 1
    return passed, failed, skipped, [s for s in suites if s.startswith('vcm')]


def splats(path):
    """The problems in the raw kernel log, as strings."""
    problems = []
    expect = None       # (pattern, seen) while inside an announced block
    with open(path, errors='replace') as f:
        for n, raw in enumerate(f, 1):
            line = TIMESTAMP.sub('', raw.rstrip('\n'))
            if BEGIN in line:
                expect = [line.split(BEGIN, 1)[1].strip(), False]
                continue
            if END in line:
                if expect and expect[0] and not expect[1]:
                    problems.append('line %d: expected warning "%s" did not appear'
                                    % (n, expect[0]))
                expect = None
                continue
            if expect and expect[0] and expect[0] in line:
                expect[1] = True
            if not any(p.search(line) for p in SPLATS):
                continue
            if expect is not None and EXPECTED_KIND.search(line):
                continue
            problems.append('line %d: %s' % (n, line))
    return problems


def build_errors(path):
    """The error lines in kunit.py's output: compiler, make, QEMU timeout."""
    try:
        with open(path, errors='replace') as f:
            return [l.rstrip()[-160:] for l in f
                    if re.search(r'(error:|\*\*\* |timed out after|\[ERROR\])', l)][:10]
    except OSError:
        return []


def main(runs):
    total = [0, 0, 0]
    ok = True
    for run in runs:
        name, build_dir, rc = run.rsplit(':', 2)
        problems = []
        try:
            passed, failed, skipped, suites = count(build_dir + '/vcm-results.json')
        except (OSError, ValueError) as e:
            passed = failed = skipped = 0
            suites = []
            problems.append('no test results: %s' % e)
        if not suites or passed + failed + skipped == 0:
            problems.append('no VCM test ran')
        if rc != '0':
            problems.append('kunit.py exited %s (a test failed, or the build, boot or'
                            ' run broke: see %s/vcm-kunit.out)' % (rc, build_dir))
            problems += build_errors(build_dir + '/vcm-kunit.out')
        try:
            problems += splats(build_dir + '/test.log')
        except OSError as e:
            problems.append('no kernel log: %s' % e)
        print('%s: %d passed, %d failed, %d skipped' % (name, passed, failed, skipped))
        for p in problems[:20]:
            print('  %s: %s' % (name, p))
        if len(problems) > 20:
            print('  %s: ... %d more problems' % (name, len(problems) - 20))
        ok = ok and not problems and failed == 0
        total = [total[0] + passed, total[1] + failed, total[2] + skipped]
    print('%d passed, %d failed, %d skipped' % tuple(total))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
