#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-table.py JSON_OUT TEST_LOG...: the "vcm-bench: {json}" lines of vcm_bench
kernel logs as a table (per implementation and case: median, min and max ns/op, VCM's
median over each peer's, the throughput on 2 or 4 CPUs over 1, the counts), as JSON in
JSON_OUT and as growth curves in a PNG beside it.  The logs of several boots of the same
cases are merged (see merge()).  Exits 1 without a result."""
import json
import re
import statistics
import sys

NOT_COUNTS = ('group', 'case', 'impl', 'median_ns', 'min_ns', 'max_ns', 'vcm_over_peer', 'scaling_2cpu', 'boots')
num = lambda s: float(re.search(r'\d+', s).group())  # noqa: E731
PANELS = (('live', lambda c: num(c.split(', ')[1]), 'live reservations (4K-32K, random frees)'),
          ('mapsize', lambda c: num(c) * 2 ** (20 if 'M,' in c else 10), 'buffer bytes (bind + unbind)'),
          ('reserve', lambda c: num(c.split(', ')[2]) if c.startswith('4K-128K, 1000 ') else None,
           'CPUs (4K-128K, 1000 live; 4 vCPUs on 2 host cores)'))


def plot(rows, png):
    import matplotlib.pyplot as plt  # Agg without a display
    fig, axes = plt.subplots(1, len(PANELS), figsize=(16, 4.8))
    for ax, (group, x_of, label) in zip(axes, PANELS):
        lines = {}
        for r in (r for r in rows if r['group'] == group and x_of(r['case'])):
            lines.setdefault(r['impl'], []).append((x_of(r['case']), r['median_ns']))
        for impl, points in sorted(lines.items()):
            ax.plot(*zip(*sorted(points)), marker='o', label=impl)
        ax.set(yscale='log', xlabel=label, ylabel='ns/op, median (of 7 rounds, of the boots)')
        ax.set_xscale('log', base=2 if group == 'reserve' else 10)
        ax.legend(fontsize=8)
    fig.savefig(png, dpi=72, bbox_inches='tight')


def median(values):
    return statistics.median_low(values)


def merge(boots):
    """One row per group, case and implementation over the boots: the median
    of their medians, the least minimum, the greatest maximum, each boot's
    median in 'boots'; VCM over a peer and 2 or 4 CPUs over 1 as the median
    of each boot's ratio (a 4-CPU boot's over the boots' 1-CPU median); the
    counts of the boot whose median is the median."""
    rows, merged = [], {}
    for boot in boots:
        for r in boot:
            key = (r['group'], r['case'], r['impl'])
            if key not in merged:
                merged[key] = []
                rows.append(key)
            merged[key].append(r)
    by_boot = [{} for _ in boots]
    for b, boot in enumerate(boots):
        for r in boot:
            by_boot[b].setdefault((r['group'], r['case']), {})[r['impl']] = r
    out = []
    for key in rows:
        rs = merged[key]
        mid = median([x['median_ns'] for x in rs])
        r = dict(next(x for x in rs if x['median_ns'] == mid), median_ns=mid,
                 min_ns=min(x['min_ns'] for x in rs), max_ns=max(x['max_ns'] for x in rs))
        if len(rs) > 1:
            r['boots'] = [x['median_ns'] for x in rs]
        group, case, impl = key
        ratios, scaling = [], []
        m = re.search(r'[24] CPUs$', case)
        one_cpu = m and (group, case[:m.start()] + '1 CPU', impl)
        for cases in by_boot:
            mine = cases.get((group, case), {}).get(impl)
            vcm = cases.get((group, case), {}).get('vcm')
            if not mine or not mine['median_ns']:
                continue
            if vcm and impl != 'vcm':
                ratios.append(vcm['median_ns'] / mine['median_ns'])
            if group == 'reserve' and one_cpu:
                single = cases.get((group, one_cpu[1]), {}).get(impl)
                if single is None and one_cpu in merged:
                    single = {'median_ns': median([x['median_ns'] for x in merged[one_cpu]])}
                if single:
                    scaling.append(single['median_ns'] / mine['median_ns'])
        if ratios:
            r['vcm_over_peer'] = round(median(ratios), 2)
        if scaling:
            r['scaling_2cpu'] = round(median(scaling), 2)
        out.append(r)
    return out


def main(json_path, log_paths):
    boots = []
    for log_path in log_paths:
        try:
            with open(log_path, errors='replace') as f:
                found = [json.loads(m.group(1)) for m in (re.search(r'vcm-bench: (\{.*\})', x) for x in f) if m]
        except OSError as e:
            print(f'bench: no kernel log, its rows are missing: {e}')
            continue
        # One row per case and implementation in a boot: the last, if printed twice.
        rows = {}
        for r in found:
            key = (r['group'], r['case'], r['impl'])
            if key in rows:
                print(f'bench: {log_path}: {key} printed twice, the last kept')
            rows[key] = r
        if not rows:
            print(f'bench: {log_path}: no result in this boot (see its kunit.py output)')
        boots.append(list(rows.values()))
    if not any(boots):
        print('bench: the benchmark printed no result (see the kunit.py output)')
        return 1
    rows = merge(boots)
    with open(json_path, 'w') as f:
        json.dump({'results': rows}, f, indent=1)
    png = re.sub(r'\.json$', '', json_path) + '.png'
    try:
        plot(rows, png)
    except Exception as e:  # the table matters more than the picture
        print(f'bench: no picture: {e!r}'); png = 'no picture'

    head = f"{'group':<10} {'case':<28} {'impl':<19} {'median':>9} {'min':>9} {'max':>9} {'VCM/peer':>9} {'nCPU/1CPU':>9}  counts"
    print(head + '\n' + '-' * len(head))
    for r in rows:
        counts = ', '.join(f'{k} {v}' for k, v in r.items() if k not in NOT_COUNTS)
        if 'boots' in r:
            counts = ', '.join(filter(None, ['boots ' + '/'.join(map(str, r['boots'])), counts]))
        print(f"{r['group']:<10} {r['case']:<28} {r['impl']:<19} {r['median_ns']:>9} {r['min_ns']:>9} "
              f"{r['max_ns']:>9} {r.get('vcm_over_peer', '')!s:>9} {r.get('scaling_2cpu', '')!s:>9}  {counts}")
    print(f'(ns/op, irqsoff: ns of the longest section; VCM/peer is the median over the boots of VCM\'s median '
          f'over the peer\'s; '
          f'results: {json_path}, {png})')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
