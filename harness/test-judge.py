#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The regression test of check-results.py's judging, run first by make test.

It judges logs of known verdict: the saved logs in testdata/ that kunit.py
misread, a synthetic log with a foreign line at every position (each must
pass), and that log broken in every way a run can break (each must fail).
"""
import importlib.util
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('check_results',
                                              os.path.join(HERE, 'check-results.py'))
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

SUITES = ['vcm_a', 'vcm_b', 'vcm_c']
# Three suites: one with a parameterised case and a skip, one whose case is
# named like the suite, and a last one.  4 leaves pass, 1 is skipped.
KTAP = '''KTAP version 1
1..3
    KTAP version 1
    # Subtest: vcm_a
    # module: vcm_a_kunit
    1..2
    ok 1 vcm_a_one_test
        KTAP version 1
        # Subtest: vcm_a_param_test
        ok 1 first
        ok 2 second # SKIP not on this machine
    # vcm_a_param_test: pass:1 fail:0 skip:1 total:2
    ok 2 vcm_a_param_test
# vcm_a: pass:2 fail:0 skip:0 total:2
ok 1 vcm_a
    KTAP version 1
    # Subtest: vcm_b
    1..1
    # vcm_b: a diagnostic line
    ok 1 vcm_b
ok 2 vcm_b
    KTAP version 1
    # Subtest: vcm_c
    1..1
    ok 1 vcm_c_test
ok 3 vcm_c
'''.splitlines()
BOOT = ['Linux version 6.12.118 (root@vm)', 'clk: Disabling unused clocks']
END = ['reboot: Restarting system']
FOREIGN = ['tsc: Refined TSC clocksource calibration: 2096.014 MHz',
           'arm-smmu-v3 9050000.smmuv3: \t0x0000000001000200',
           '    DMAR: [DMA Write NO_PASID] Request device [00:01.0] fault addr 0x1000000',
           '[    1.234567] random: crng init done']
KUNIT_MISREAD = '[18:11:12] [ERROR] Test: main: missing expected subtest!\n'

failures = []
judged = 0


def expect(what, lines, rc, suites, counts, ok, problem=None, note=False,
           kunit_out=''):
    """Judges lines as the kernel log of a run whose kunit.py exited rc and
    printed kunit_out.  A run judged failed must name problem, if given; a
    run judged ok must carry a note if note is set."""
    global judged
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, 'test.log'), 'w', newline='') as f:
            f.write(''.join(l if l.endswith('\n') else l + '\n' for l in lines))
        with open(os.path.join(d, 'vcm-kunit.out'), 'w') as f:
            f.write('[18:11:00] Starting KUnit Kernel (1/1)...\n' + kunit_out)
            if rc != '0':
                f.write(KUNIT_MISREAD)
        passed, failed, skipped, problems, notes = check.judge(d, rc, suites)
    judged += 1
    got_ok = not problems and failed == 0
    wrong = got_ok != ok or (counts and (passed, failed, skipped) != counts)
    wrong = wrong or (problem and not any(problem in p for p in problems))
    wrong = wrong or (note and not notes)
    if wrong:
        failures.append('%s: judged %s with %d passed, %d failed, %d skipped, problems %s,'
                        ' notes %s' % (what, 'ok' if got_ok else 'failed', passed, failed,
                                       skipped, problems[:3], notes))


# The saved logs: every suite reported ok, kunit.py said crashed.
for name, suites, counts in (
        ('x86_64-refcnt-y-tsc-between-ktap.log',
         ['vcm_core', 'vcm_phys', 'vcm_mmu', 'vcm_sysmmu', 'vcm_share'], (145, 0, 0)),
        ('arm64-smmu-events-between-ktap.log', ['edu_probe'], (1, 0, 0)),
        ('x86_64-dmar-fault-between-ktap.log', ['edu_probe'], (1, 0, 0))):
    with open(os.path.join(HERE, 'testdata', name)) as f:
        saved = f.readlines()
    expect(name, saved, '1', suites, counts, True, note=True)
    last_result = max(i for i, l in enumerate(saved) if l.startswith('ok '))
    expect(name + ' cut before its last suite\'s result', saved[:last_result] + END,
           '1', [], None, False, 'never reported')

GOOD = (4, 0, 1)
clean = BOOT + KTAP + END
expect('the clean log', clean, '0', SUITES, GOOD, True)
first, last = len(BOOT), len(BOOT) + len(KTAP)
for i in range(first, last + 1):
    for foreign in FOREIGN:
        expect('a foreign line before line %d' % (i + 1),
               clean[:i] + [foreign] + clean[i:], '1', SUITES, GOOD, True)
# Judged without expected suites: the KTAP reading alone must see it.
for i in range(first, last):
    line = clean[i].strip()
    # Without a header line the nesting still tells the test; without a
    # suite's plan its results still count; all else must be there.
    if line.startswith(('ok ', 'not ok ', 'KTAP', '1..', '# Subtest')):
        expect('line %d (%s) missing' % (i + 1, line), clean[:i] + clean[i + 1:],
               '1', [], None, line.startswith(('KTAP', '# Subtest')) or
               line.startswith('1..') and clean[i] != line)
    if i + 1 < last:
        expect('the log cut after line %d' % (i + 1),
               clean[:i + 1] + [FOREIGN[0]] + END, '1', [], None, False)
for prefix in ('[    2.345678] ', '[    2.345678][    T1] '):
    expect('every line after "%s"' % prefix, [prefix + l for l in clean[:3]] +
           [prefix + FOREIGN[0]] + [prefix + l for l in clean[3:]], '1', SUITES, GOOD, True)
expect('CRLF line ends', [l + '\r\n' for l in clean], '0', SUITES, GOOD, True)
b = clean.index('    # Subtest: vcm_b') - 1
c = clean.index('    # Subtest: vcm_c') - 1
expect('suite vcm_b missing', clean[:b] + clean[c:], '1', SUITES, None, False)
expect('suite vcm_b missing, the plan too', [l.replace('1..3', '1..2') for l in clean[:b]] +
       [l.replace('ok 3 vcm_c', 'ok 2 vcm_c') for l in clean[c:]], '1', SUITES, None, False)
failing = [l.replace('    ok 1 vcm_c_test', '    not ok 1 vcm_c_test')
           .replace('ok 3 vcm_c', 'not ok 3 vcm_c') for l in clean]
expect('a failing case', failing, '1', SUITES, (3, 1, 1), False)
FAILING_PARAM = {'        ok 1 first': '        not ok 1 first',
                 '    ok 2 vcm_a_param_test': '    not ok 2 vcm_a_param_test',
                 'ok 1 vcm_a': 'not ok 1 vcm_a'}
expect('a failing parameter', [FAILING_PARAM.get(l, l) for l in clean], '1', SUITES,
       (3, 1, 1), False)
expect('a suite failed with every case passing',
       [l.replace('ok 3 vcm_c', 'not ok 3 vcm_c') for l in clean], '1', SUITES, GOOD, False,
       'vcm_c failed')
expect('results numbered out of order', [l.replace('ok 2 vcm_b', 'ok 5 vcm_b') for l in clean],
       '1', [], None, False, 'is number 5')
expect('a suite reporting under another name',
       [l.replace('ok 3 vcm_c', 'ok 3 vcm_x') for l in clean], '1', [], None, False, 'is named')
expect('a second KTAP output', clean[:-1] + KTAP + END, '1', SUITES, None, False,
       'a second KTAP output')
NO_PARAM = {'    ok 2 vcm_a_param_test': '    ok 2 vcm_a_param_test # SKIP '}
expect('a parameterised test with no parameter, skipped',
       [NO_PARAM.get(l, l) for l in clean if not l.startswith(('        ok ', '    # vcm_a_param'))],
       '0', SUITES, (3, 0, 1), True)
expect('a "#" in a name', [l.replace('ok 1 first', 'ok 1 case #1') for l in clean],
       '0', SUITES, GOOD, True)
expect('kunit.py timed out', clean, '1', SUITES, GOOD, False, 'timed out',
       kunit_out='[18:12:00] ERROR: QEMU timed out after 900 seconds\n')
expect('lockdep on a non-static key', clean[:first + 8] +
       ['INFO: trying to register non-static key.'] + clean[first + 8:],
       '0', SUITES, GOOD, False, 'non-static key')
expect('no shutdown', clean[:-1], '0', SUITES, GOOD, False)
expect('a splat between KTAP lines', clean[:first + 8] +
       ['WARNING: CPU: 1 PID: 1 at mm/page_alloc.c:1 x+0x1/0x2'] + clean[first + 8:],
       '0', SUITES, GOOD, False)

for f in failures:
    print('judge: misjudged: %s' % f)
print('judge: %d logs judged as expected%s'
      % (judged - len(failures), ', %d misjudged' % len(failures) if failures else ''))
sys.exit(1 if failures else 0)
