#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the VCM KUnit runs from the raw kernel log: the KTAP results
and splats.

Usage: check-results.py NAME:BUILD_DIR:KUNIT_EXIT_CODE:SUITES ...
       check-results.py --splats KERNEL_LOG   (make run: any splat fails)

Prints "NAME: N passed, N failed, N skipped" and the problems of each
run, then the total.  Exits 1 on a failed test, a suite (SUITES) or case
missing, a build error or a warning in a VCM file, a timeout, no test
passed, no clean shutdown, or a splat (WARN, BUG, KASAN, lockdep,
refcount_t, list corruption, UBSAN, lockups, stalls) outside a block a
test announced.  kunit.py misreads a kernel line between a subtest's
KTAP lines, or a case named like its suite: read_ktap() takes a line as
KTAP only by its exact form, and nests by indentation.

A test announces a block with "vcm-kunit: expect-warning begin: PATTERN"
and closes it with "vcm-kunit: expect-warning end".  Inside it only
warnings raised in VCM's own files are accepted, refcount_t's only when
PATTERN names refcount_t; a non-empty PATTERN must appear in the block.
"""
import re
import sys

# A printk prefix: the time stamp, and the caller's ID where it is enabled.
TIMESTAMP = re.compile(r'^(\[\s*\d+\.\d+\]\s?)?(\[\s*[CT]\d+\]\s?)?')
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
    r'^INFO: trying to register non-static key',   # lockdep, no WARNING line
)]
CUT_HERE = re.compile(r'^-+\[ cut here \]-+')
VCM_WARNING = re.compile(r'^WARNING: CPU: \d+ PID: \d+ at (mm/vcm(-phys|-mmu|-dmabuf|-o2o|-vmm)?|drivers/iommu/vcm-(sysmmu|iommu))\.c:')
REFCOUNT_WARNING = re.compile(r'^(WARNING: CPU: \d+ PID: \d+ at lib/refcount\.c:|refcount_t: )')
KTAP_RESULT = re.compile(r'^\s*(not )?ok \d+ ')
BEGIN = 'vcm-kunit: expect-warning begin:'
END = 'vcm-kunit: expect-warning end'
SHUTDOWN = 'reboot: Restarting system'


# A KTAP line, indented four spaces per level of nesting.  Nothing else is.
KTAP = re.compile(r'^(?P<indent>(?:    )*)(?:'
                  r'(?P<version>K?TAP version \d+)'
                  r'|1\.\.(?P<plan>\d+)'
                  r'|# Subtest: (?P<subtest>\S.*)'
                  r'|(?P<not>not )?ok (?P<number>[1-9]\d*) (?:- )?(?P<name>.*?)'
                  r'(?: # (?P<directive>SKIP|TODO)\b.*)?)$')
# KUnit's count of a test's subtests, printed one level out, before its
# result: the plan of a parameterised test, which prints none.
STATS = re.compile(r'^(?P<indent>(?:    )*)# (?P<name>\S+): pass:\d+ fail:\d+ skip:\d+ '
                   r'total:(?P<total>\d+)$')


class Test:
    """A test that has subtests, while its KTAP lines are being read."""

    def __init__(self, name, line):
        self.name = name        # None until its "# Subtest:" line
        self.line = line        # where it started, for the problems
        self.plan = None
        self.total = None       # from its "# name: pass:... total:N" line
        self.results = 0        # results of its subtests read so far
        self.failed_leaves = 0


def read_ktap(lines):
    """Reads the KTAP lines among a kernel log's lines.

    Returns (passed, failed, skipped, top-level tests, problems), counting
    the leaves (tests without subtests) as kunit.py does.  A test with
    subtests must report as many as its plan says, numbered from 1, and a
    result of its own under its own name; one that never does (the kernel
    died, or stopped printing) is a problem, as is a top-level plan not
    met.  Lines that are not KTAP are skipped wherever they fall.
    """
    counts = {'pass': 0, 'fail': 0, 'skip': 0}
    top, problems = [], []
    stack = []      # stack[d]: the open test whose subtests are indented d levels

    def close_below(depth, n):
        while len(stack) > depth:
            test = stack.pop()
            problems.append('line %d: %s, begun at line %d, never reported a result'
                            % (n, test.name or 'a test', test.line))

    for n, raw in enumerate(lines, 1):
        line = TIMESTAMP.sub('', raw.rstrip('\r\n'))
        m = KTAP.match(line)
        if not m:
            m = STATS.match(line)
            depth = len(m['indent']) // 4 + 1 if m else 0
            if m and len(stack) == depth + 1 and stack[-1].name == m['name']:
                stack[-1].total = int(m['total'])
            continue
        depth = len(m['indent']) // 4
        if not stack:
            if depth == 0 and (m['version'] or m['plan']):
                stack.append(Test('the top level', n))
            else:
                continue
        if m['version'] or m['subtest'] is not None:
            if depth == 0:
                if m['version'] and stack[0].plan is None and not stack[0].results:
                    continue
                problems.append('line %d: a second KTAP output begins' % n)
                continue
            if (m['subtest'] is not None and len(stack) == depth + 1 and
                    stack[-1].name is None and stack[-1].plan is None and
                    not stack[-1].results):
                stack[-1].name = m['subtest']           # after its "KTAP version"
                continue
            if len(stack) < depth:
                problems.append('line %d: nested deeper than the test it is in' % n)
                continue
            close_below(depth, n)
            stack.append(Test(m['subtest'], n))
        elif m['plan']:
            if len(stack) != depth + 1 or stack[-1].plan is not None or stack[-1].results:
                problems.append('line %d: a plan out of place' % n)
                continue
            stack[-1].plan = int(m['plan'])
        else:
            if len(stack) < depth + 1:
                problems.append('line %d: a result nested deeper than its test' % n)
                continue
            close_below(depth + 2, n)
            parent = stack[depth]
            name = m['name'].strip()
            status = 'skip' if m['directive'] == 'SKIP' else 'fail' if m['not'] else 'pass'
            parent.results += 1
            if int(m['number']) != parent.results:
                problems.append('line %d: %s is number %s in %s, expected %d'
                                % (n, name, m['number'], parent.name, parent.results))
            if len(stack) == depth + 2:
                test = stack.pop()
                if test.name is not None and test.name != name:
                    problems.append('line %d: the result of %s (line %d) is named %s'
                                    % (n, test.name, test.line, name))
                for planned in {test.plan, test.total} - {None}:
                    if test.results != planned:
                        problems.append('line %d: %s planned %d tests, %d reported'
                                        % (n, name, planned, test.results))
                if not test.results:
                    counts[status] += 1     # no subtests: a leaf after all
                    test.failed_leaves += status == 'fail'
                elif status == 'fail' and not test.failed_leaves:
                    problems.append('line %d: %s failed' % (n, name))
                parent.failed_leaves += test.failed_leaves
            else:
                counts[status] += 1
                if status == 'fail':
                    parent.failed_leaves += 1
            if depth == 0:
                top.append(name)
    if not stack:
        return 0, 0, 0, [], ['no KTAP output in the kernel log']
    close_below(1, len(lines))
    if stack[0].plan is None:
        problems.append('no top-level plan')
    elif stack[0].results != stack[0].plan:
        problems.append('%d of the %d top-level tests planned reported'
                        % (stack[0].results, stack[0].plan))
    return counts['pass'], counts['fail'], counts['skip'], top, problems


def splats(lines):
    """The problems in the raw kernel log's lines, as strings."""
    problems = []
    block = None        # [pattern, seen, line] while inside an announced block
    shut_down = False
    for n, raw in enumerate(lines, 1):
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
# kunit.py's line before the boot: what follows is the kernel's and its parser's.
BOOT = 'Starting KUnit Kernel'


def build_errors(path):
    """The error lines of the build in kunit.py's output (compiler errors,
    warnings in our files, make's), and QEMU's timeout."""
    errors, booted = [], False
    try:
        with open(path, errors='replace') as f:
            for line in f:
                booted = booted or BOOT in line
                if ('timed out after' in line or not booted and (
                        re.search(r'(error:|\*\*\* |ERROR:)', line) or OUR_WARNING.search(line))):
                    errors.append(line.rstrip()[-160:])
    except OSError:
        pass
    return errors[:10]


def judge(build_dir, rc, suites):
    """(passed, failed, skipped, problems, notes) of one run in build_dir,
    whose kunit.py exited with rc and which had to report suites."""
    problems = build_errors(build_dir + '/vcm-kunit.out')
    try:
        with open(build_dir + '/test.log', errors='replace') as f:
            lines = f.readlines()
    except OSError as e:
        problems.append('no kernel log (%s): kunit.py exited %s, see %s/vcm-kunit.out'
                        % (e.strerror, rc, build_dir))
        return 0, 0, 0, problems, []
    passed, failed, skipped, top, ktap_problems = read_ktap(lines)
    problems += ktap_problems
    problems += ['suite %s did not report' % s for s in suites if s not in top]
    if passed == 0:
        problems.append('no VCM test passed')
    problems += splats(lines)
    notes = []
    if rc != '0':
        if problems or failed:
            problems.append('kunit.py exited %s (see %s/vcm-kunit.out)' % (rc, build_dir))
        else:
            notes.append('kunit.py exited %s, misreading kernel messages among the KTAP'
                         ' lines; those lines report every test, and all passed' % rc)
    return passed, failed, skipped, problems, notes


def splat_lines(path):
    """make run's check: the splat lines of a kernel log, as problems."""
    with open(path, errors='replace') as f:
        lines = [TIMESTAMP.sub('', l.rstrip('\n')) for l in f]
    return ['%s:%d: %s' % (path, n, l) for n, l in enumerate(lines, 1)
            if any(p.search(l) for p in SPLATS) and not CUT_HERE.search(l)]


def main(runs):
    if runs[:1] == ['--splats']:
        found = splat_lines(runs[1])
        for line in found:
            print(line)
        return 1 if found else 0
    total = [0, 0, 0]
    ok = bool(runs)
    if not runs:
        print('no configuration was run')
    for run in runs:
        name, build_dir, rc, suites = run.rsplit(':', 3)
        passed, failed, skipped, problems, notes = judge(build_dir, rc, suites.split(','))
        print('%s: %d passed, %d failed, %d skipped' % (name, passed, failed, skipped))
        for p in problems[:20]:
            print('  %s: %s' % (name, p))
        if len(problems) > 20:
            print('  %s: ... %d more problems' % (name, len(problems) - 20))
        for note in notes:
            print('  %s: note: %s' % (name, note))
        ok = ok and not problems and failed == 0
        total = [total[0] + passed, total[1] + failed, total[2] + skipped]
    print('%d passed, %d failed, %d skipped' % tuple(total))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
