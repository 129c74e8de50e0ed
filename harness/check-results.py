#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the VCM KUnit runs: test counts from kunit.py's JSON, and splats
from the raw kernel log.

Usage: check-results.py NAME:BUILD_DIR:KUNIT_EXIT_CODE ...

For each configuration it prints "NAME: N passed, N failed, N skipped" and
every problem found; then the total line "N passed, N failed, N skipped".
It exits 1 when a test failed or crashed, kunit.py failed or timed out, no
VCM test passed, the kernel did not shut down cleanly after the tests, or
the kernel log holds a splat (WARN, BUG, KASAN, lockdep, refcount_t, list
corruption, UBSAN, lockups, stalls) outside a block where a test announced
it.  A compiler warning in a VCM file is a problem too.

A test announces a block with the line "vcm-kunit: expect-warning begin:
PATTERN" and closes it with "vcm-kunit: expect-warning end".  Inside it,
only warnings raised in mm/vcm*.c and drivers/iommu/vcm-sysmmu.c are
accepted, and refcount_t's own only
when PATTERN names refcount_t; a non-empty PATTERN must appear in the
block (an empty one is for a WARN_ON_ONCE() that may have fired before).
A block still open at the test's result line is a problem.
"""
import json
import re
import sys

TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\]\s?')
SPLATS = [re.compile(p) for p in (
    r'^WARNING: ',                  # WARN*(), lockdep, RCU
    r'^-+\[ cut here \]-+',
    r'(^|: )BUG: ',                  # KASAN, sleeping in atomic, soft lockup
    r'^(Unable to handle kernel|Internal error:|Kernel panic|Oops|kernel BUG at)',
    r'refcount_t: ',
    r'^ODEBUG: ',
    r'list_(add|del) (corruption|double add)',
    r'^UBSAN: ',
    r'^INFO: task .* blocked for more than',
    r'rcu: INFO: .*(detected stall|self-detected stall|detected expedited stall)',
    r'kmemleak: .* new suspected memory leaks',
    r'^BUG \S+ \((Not tainted|Tainted)',  # SLUB's own reports
)]
CUT_HERE = re.compile(r'^-+\[ cut here \]-+')
VCM_WARNING = re.compile(r'^WARNING: CPU: \d+ PID: \d+ at (mm/vcm(-phys|-mmu)?|drivers/iommu/vcm-sysmmu)\.c:')
REFCOUNT_WARNING = re.compile(r'^(WARNING: CPU: \d+ PID: \d+ at lib/refcount\.c:|refcount_t: )')
KTAP_RESULT = re.compile(r'^\s*(not )?ok \d+ ')
BEGIN = 'vcm-kunit: expect-warning begin:'
END = 'vcm-kunit: expect-warning end'
SHUTDOWN = 'reboot: Restarting system'


def leaves(group):
    yield from group.get('test_cases', [])
    for sub in group.get('sub_groups', []):
        yield from leaves(sub)


def count(path):
    """(passed, failed, skipped, vcm suites seen) from kunit.py's JSON."""
    with open(path) as f:
        root = json.load(f)
    passed = failed = skipped = 0
    suites = [g['name'] for g in root.get('sub_groups', [])]
    for case in leaves(root):
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
    block = None        # [pattern, seen, line] while inside an announced block
    shut_down = False
    with open(path, errors='replace') as f:
        for n, raw in enumerate(f, 1):
            line = TIMESTAMP.sub('', raw.rstrip('\n'))
            if BEGIN in line:
                block = [line.split(BEGIN, 1)[1].strip(), False, n]
                continue
            if END in line or (block and KTAP_RESULT.search(line)):
                if block and END not in line:
                    problems.append('line %d: warning block opened at line %d not closed'
                                    % (n, block[2]))
                elif block and block[0] and not block[1]:
                    problems.append('line %d: expected warning "%s" did not appear'
                                    % (n, block[0]))
                block = None
                continue
            if SHUTDOWN in line:
                shut_down = True
            if block and block[0] and block[0] in line:
                block[1] = True
            if not any(p.search(line) for p in SPLATS):
                continue
            if block is not None and (
                    CUT_HERE.search(line) or VCM_WARNING.search(line) or
                    ('refcount_t' in block[0] and REFCOUNT_WARNING.search(line))):
                continue
            problems.append('line %d: %s' % (n, line))
    if not shut_down:
        problems.append('the kernel did not shut down after the tests ("%s" missing)'
                        % SHUTDOWN)
    return problems


# Compiler warnings in our files (kunit.py prints make's stderr).
OUR_WARNING = re.compile(r'/(mm/vcm[-\w]*|lib/tests/vcm\w*|include/linux/vcm[-\w]*'
                         r'|drivers/iommu/vcm[-\w]*|samples/vcm/[-\w]+)\.[ch]:\d+:\d+: warning:')


def build_errors(path):
    """The error lines in kunit.py's output: compiler errors and warnings in
    our files, make, QEMU timeout."""
    try:
        with open(path, errors='replace') as f:
            return [l.rstrip()[-160:] for l in f
                    if re.search(r'(error:|\*\*\* |timed out after|\[ERROR\])', l)
                    or OUR_WARNING.search(l)][:10]
    except OSError:
        return []


def main(runs):
    total = [0, 0, 0]
    ok = bool(runs)
    if not runs:
        print('no configuration was run')
    for run in runs:
        name, build_dir, rc = run.rsplit(':', 2)
        problems = []
        try:
            passed, failed, skipped, suites = count(build_dir + '/vcm-results.json')
        except (OSError, ValueError) as e:
            passed = failed = skipped = 0
            suites = []
            problems.append('no test results: %s' % e)
        if not suites or passed == 0:
            problems.append('no VCM test passed')
        if rc != '0':
            problems.append('kunit.py exited %s (a test failed, or the build, boot or'
                            ' run broke: see %s/vcm-kunit.out)' % (rc, build_dir))
        # Also with exit code 0: kunit.py passes a run that hung after its last test.
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
