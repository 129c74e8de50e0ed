#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-table.py JSON_OUT TEST_LOG...: the "vcm-bench: {json}" lines of
vcm_bench kernel logs as a table, and as one JSON document in JSON_OUT.

A row is one implementation in one case: median, minimum and maximum
ns/op, and for VCM the ratio of its median to each peer's (below 1.0 VCM
is faster); on 2 CPUs, the throughput over that on 1.  Exits 1 without
a result.
"""
import json
import re
import sys

LINE = re.compile(r'vcm-bench: (\{.*\})')


def main(json_path, log_paths):
    rows = []
    for log_path in log_paths:
        try:
            with open(log_path, errors='replace') as f:
                for line in f:
                    m = LINE.search(line)
                    if m:
                        rows.append(json.loads(m.group(1)))
        except OSError as e:
            print(f'bench: no kernel log: {e}')
            return 1
    if not rows:
        print('bench: the benchmark printed no result (see the kunit.py output)')
        return 1

    by_case = {}
    for r in rows:
        by_case.setdefault((r['group'], r['case']), {})[r['impl']] = r
    for r in rows:
        peers = by_case[(r['group'], r['case'])]
        vcm = peers.get('vcm')
        if vcm and r['impl'] != 'vcm' and r['median_ns']:
            r['vcm_over_peer'] = round(vcm['median_ns'] / r['median_ns'], 2)
        if r['group'] == 'reserve' and r['case'].endswith('2 CPUs'):
            one = by_case.get((r['group'], r['case'].replace('2 CPUs', '1 CPU')), {})
            single = one.get(r['impl'])
            if single and r['median_ns']:
                # ns/op over both CPUs' operations: throughput is its inverse.
                r['scaling_2cpu'] = round(single['median_ns'] / r['median_ns'], 2)

    with open(json_path, 'w') as f:
        json.dump({'results': rows}, f, indent=1)

    head = f"{'group':<10} {'case':<28} {'impl':<19} {'median':>9} {'min':>9} {'max':>9} {'VCM/peer':>9} {'2CPU/1CPU':>9}  counts"
    print(head)
    print('-' * len(head))
    for r in rows:
        counts = ', '.join(f'{k} {v}' for k, v in r.items()
                           if k in ('entries', 'invalidations', 'blocks', 'irqsoff_entries',
                                    'tlb_add_page', 'flush_all', 'flush_walk',
                                    'percent_1m', 'smmu_cmds'))
        ratio = r.get('vcm_over_peer', '')
        scale = r.get('scaling_2cpu', '')
        print(f"{r['group']:<10} {r['case']:<28} {r['impl']:<19} {r['median_ns']:>9} "
              f"{r['min_ns']:>9} {r['max_ns']:>9} {ratio!s:>9} {scale!s:>9}  {counts}")
    print(f'(ns/op, irqsoff: ns of the longest section; VCM/peer is VCM\'s median over the peer\'s; results: {json_path})')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
