#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright: numasafe contributors
"""numasafe_swapoff: empty swap areas and switch them off with fast-swapoff --json; areas
already off (by numa-plan show's swap list) are left alone, so a second run changes nothing."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: numasafe_swapoff
short_description: Page swap areas back in, checked against memory and cgroup limits, and switch them off
description:
  - Runs C(fast-swapoff --json) on the swap areas named in I(devices), or on every active area
    with I(all). fast-swapoff checks that the memory to bring back fits (memory available
    above the reserve, every memory cgroup's room) and refuses otherwise; it pages back in at
    a rate it controls and only then calls swapoff(2) (fast-swapoff(8)).
  - The state asked for is "off". Named areas that exist but are not active swap areas (in
    the C(swap) list of C(numa-plan show --json)) are already off - they are listed in
    C(already_off) and not passed to fast-swapoff; when none is active, nothing runs and the
    task reports C(changed=false). A path that does not exist is passed on, and fast-swapoff
    fails with reason C(not-swap).
  - The task is C(changed) when an area was swapped off or memory was paged back in (an area's
    C(swapped_off) or C(back) in the C(numasafe-swapoff) document).
  - A refusal (exit 4 - the memory would eat the reserve, a cgroup lacks room, another run
    holds the area) fails the task with C(refused=true) and the contract's C(reason); nothing
    changed. A partial stop (exit 5 - paging in began and stopped, or a later area failed after
    earlier ones were switched off) fails it with C(partial=true); C(document) says what came
    back and what was switched off. There is no rollback; running the task again finishes it.
  - In check mode the module runs C(fast-swapoff --dry-run) (each area's preflight and
    verdict) and reports C(changed) when an active area would be emptied or switched off.
version_added: 0.1.0
author: numasafe contributors (@numasafe)
options:
  devices:
    description:
      - The swap areas (devices or files) to empty and switch off, in the order given.
        Exactly one of I(devices) and I(all) is required.
    type: list
    elements: path
  all:
    description:
      - Every active swap area, lowest priority first (C(--all)).
    type: bool
    default: false
  swapoff:
    description:
      - Switch the areas off after paging in; C(false) passes C(--no-swapoff) and leaves them on.
    type: bool
    default: true
  pids:
    description:
      - Page in only these processes' memory (C(--pid), implies I(swapoff=false)).
    type: list
    elements: int
  rate:
    description:
      - Read back at most this many bytes per second (C(100M)); C(0) or C(unlimited) is no limit.
    type: str
  readahead:
    description:
      - Swapped bytes asked for ahead of the reads (C(--readahead)); C(0) turns it off.
    type: str
  jobs:
    description:
      - Workers paging processes in at once, 1 to 16 (C(--jobs)). Default is fast-swapoff's,
        2 on a host with two CPUs or more, else 1.
    type: int
  reserve:
    description:
      - Memory that must still be available after paging in, a size or a percentage of the
        host's memory (C(--reserve)). Default is fast-swapoff's, the larger of 256M and 2%.
    type: str
  max_psi:
    description:
      - The memory pressure (PSI some avg10, percent) above which paging in pauses (C(--max-psi)).
    type: float
  psi_grace:
    description:
      - Seconds the pressure may stay above I(max_psi) before the pass stops (C(--psi-grace)).
    type: float
  bin_dir:
    description:
      - Directory holding the numasafe commands (a build tree's C(bin/), say). Default is to
        find them on C(PATH) or in C(/usr/sbin), C(/usr/local/sbin), C(/sbin), C(/usr/local/bin).
    type: path
  audit:
    description:
      - Write the audit records of each area's swapoff to the system log; C(false) passes
        C(--no-log).
    type: bool
    default: true
notes:
  - Supports check mode (C(--dry-run)) and diff mode (each area on or off, and its bytes in
    use, before and after).
  - Runs the installed numasafe commands; every safety decision is fast-swapoff's.
seealso:
  - module: numasafe.kvm.numasafe_facts
'''

EXAMPLES = r'''
- name: Empty /dev/vdb at 100 MiB/s at most and switch it off; retry later when refused
  numasafe.kvm.numasafe_swapoff:
    devices: [/dev/vdb]
    rate: 100M
  register: swapoff
  until: not swapoff.refused
  retries: 10
  delay: 60

- name: Every swap area off, keeping 4 GiB available
  numasafe.kvm.numasafe_swapoff:
    all: true
    reserve: 4G
'''

RETURN = r'''
document:
  description:
    - The C(numasafe-swapoff) document (version 2) - per area its preflight (C(used),
      C(process_bytes), C(available), C(reserve), C(cgroups), C(verdict)) and outcome
      (C(back), C(swapped_off), C(stop)). C(dry_run) is true in check mode. On failure, the
      error document's C(result), or null. Null when no named area was active.
  returned: always
  type: dict
  sample: {"version": 2, "kind": "numasafe-swapoff", "dry_run": false, "areas_done": 1}
already_off:
  description: Named areas that were not active swap areas, left alone.
  returned: always
  type: list
  elements: str
  sample: [/dev/vdb]
swapped_off:
  description: Areas this run switched off.
  returned: always
  type: list
  elements: str
  sample: [/dev/vda]
error:
  description: The C(numasafe-error) document of a failure (C(code), C(reason), C(message), C(result)), or null.
  returned: always
  type: dict
reason:
  description: The stable keyword of a failure (numasafe(7), REASONS), such as C(memory), C(cgroup), C(busy), C(pressure); null on success.
  returned: always
  type: str
  sample: memory
code:
  description: fast-swapoff's exit code (numasafe(7), EXIT STATUS); 0 when nothing ran.
  returned: always
  type: int
refused:
  description: fast-swapoff refused (exit 4); nothing changed, retrying later may succeed.
  returned: always
  type: bool
partial:
  description: fast-swapoff stopped partway (exit 5); what came back stays in memory, C(document) says what changed.
  returned: always
  type: bool
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.numasafe.kvm.plugins.module_utils.numasafe import (
    EXIT_OK, common_argument_spec, finish, outcome, run_json)


def area_changed(area, dry_run, swapoff):
    """Whether an area of a numasafe-swapoff document changed (or would, in a dry run)."""
    if dry_run:
        if area.get('outcome') != 'checked' or area.get('verdict') != 'safe':
            return False
        return swapoff or area.get('process_bytes', 0) + area.get('other_bytes', 0) > 0
    return bool(area.get('swapped_off')) or area.get('back', 0) + area.get('shmem_back', 0) > 0


def active_areas(module):
    """Paths of the active swap areas, from numa-plan show's swap list."""
    show = run_json(module, 'numa-plan', ['show'], ['numasafe-show'])
    if show.rc != EXIT_OK:
        finish(module, outcome(show, False))
    return dict((os.path.realpath(a['path']), a) for a in show.doc.get('swap', []))


def diff_text(doc, swapoff):
    before, after = [], []
    for a in doc.get('areas', []):
        before.append('%s: on, %d bytes used' % (a.get('device'), a.get('used', 0)))
        if swapoff and (a.get('swapped_off') or (doc.get('dry_run') and a.get('verdict') == 'safe')):
            after.append('%s: off' % a.get('device'))
        else:
            after.append('%s: on' % a.get('device'))
    return dict(before='\n'.join(before) + '\n', after='\n'.join(after) + '\n')


def main():
    spec = common_argument_spec()
    spec.update(
        devices=dict(type='list', elements='path'),
        all=dict(type='bool', default=False),
        swapoff=dict(type='bool', default=True),
        pids=dict(type='list', elements='int'),
        rate=dict(type='str'),
        readahead=dict(type='str'),
        jobs=dict(type='int'),
        reserve=dict(type='str'),
        max_psi=dict(type='float'),
        psi_grace=dict(type='float'),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[('devices', 'all')],
                           required_one_of=[('devices', 'all')])
    p = module.params
    swapoff = p['swapoff'] and not p['pids']

    already_off, todo = [], []
    if not p['all']:
        active = active_areas(module)
        for dev in p['devices']:
            # a path that does not exist is no swap area that was switched off: fast-swapoff
            # names the problem (not-swap)
            if os.path.realpath(dev) in active or not os.path.exists(dev):
                todo.append(dev)
            else:
                already_off.append(dev)
        if not todo:
            module.exit_json(changed=False, rc=0, cmd=[], stderr='', document=None, error=None, code=0,
                             reason=None, refused=False, partial=False, already_off=already_off, swapped_off=[])

    args = []
    for opt, flag in (('rate', '--rate'), ('readahead', '--readahead'), ('reserve', '--reserve')):
        if p[opt] is not None:
            args += [flag, p[opt]]
    for opt, flag in (('max_psi', '--max-psi'), ('psi_grace', '--psi-grace')):
        if p[opt] is not None:
            args += [flag, '%g' % p[opt]]
    if p['jobs'] is not None:
        args += ['--jobs', str(p['jobs'])]
    for pid in p['pids'] or []:
        args += ['--pid', str(pid)]
    if not p['swapoff']:
        args.append('--no-swapoff')
    if module.check_mode:
        args.append('--dry-run')
    args += ['--all'] if p['all'] else ['--'] + todo

    run = run_json(module, 'fast-swapoff', args, ['numasafe-swapoff'], changes=not module.check_mode)
    doc = run.document
    areas = doc.get('areas', []) if doc and doc.get('kind') == 'numasafe-swapoff' else []
    res = outcome(run, any(area_changed(a, module.check_mode, swapoff) for a in areas))
    res['already_off'] = already_off
    res['swapped_off'] = [a.get('device') for a in areas if a.get('swapped_off')]
    if module._diff and areas:
        res['diff'] = diff_text(doc, swapoff)
    finish(module, res)


if __name__ == '__main__':
    main()
