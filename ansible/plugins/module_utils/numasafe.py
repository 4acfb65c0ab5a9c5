# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright: numasafe contributors
"""The code every numasafe.kvm module shares: find a numasafe command, run it with --json and
translate the contract of numasafe(7) into a module result. Exit 0 gives the command's document;
any other exit gives the numasafe-error document, whose reason becomes the task's reason, exit 4
a refusal (nothing changed, retry later) and exit 5 a partial stop (what changed is in the error
document's result). The modules decide only what "changed" means for their kind of document;
every safety decision stays in the command."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_UNSUPPORTED = 3
EXIT_REFUSED = 4
EXIT_PARTIAL = 5

# The version of each kind this collection reads (numasafe(7), JSON). Within a version fields
# may be added, so a newer document of the same version is read as is; another version is not.
KINDS = {
    'numasafe-show': 2,
    'numasafe-steal': 2,
    'numasafe-check': 2,
    'numasafe-move': 2,
    'numasafe-pin': 2,
    'numasafe-pin-show': 2,
    'numasafe-swapoff': 2,
    'numasafe-rebalance': 1,
    'numasafe-plan-run': 1,
    'numasafe-place': 1,
    'numasafe-error': 1,
}

# The installed commands live in sbin; Ansible's PATH for a module is not always a login PATH.
SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/local/bin']


def common_argument_spec():
    """Options every module takes."""
    return dict(
        bin_dir=dict(type='path'),
        audit=dict(type='bool', default=True),
    )


def command_path(module, name):
    """The command NAME: in bin_dir when given (a build tree's bin/), else on PATH or in sbin."""
    bin_dir = module.params.get('bin_dir')
    if bin_dir:
        path = os.path.join(bin_dir, name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            module.fail_json(msg='%s: no executable %s in bin_dir' % (path, name))
        return path
    return module.get_bin_path(name, required=True, opt_dirs=SBIN_DIRS)


class Run(object):
    """One command run: argv, exit code, the document it printed and its standard error."""

    def __init__(self, argv, rc, doc, stderr):
        self.argv = argv
        self.rc = rc
        self.doc = doc
        self.stderr = stderr

    @property
    def error(self):
        """The numasafe-error document of a failed run, else None."""
        if self.rc != EXIT_OK and self.doc is not None and self.doc.get('kind') == 'numasafe-error':
            return self.doc
        return None

    @property
    def document(self):
        """The command's own document: what it printed on success, or the error document's
        result (the document as far as the command got) on failure; None when there is none."""
        if self.rc == EXIT_OK:
            return self.doc
        err = self.error
        return err.get('result') if err else None


def _known(doc):
    """True when doc is a kind and version this collection reads."""
    if not isinstance(doc, dict):
        return False
    kind = doc.get('kind')
    return kind in KINDS and doc.get('version') == KINDS[kind]


def run_json(module, name, args, kinds, changes=False):
    """Run numasafe command NAME with ARGS and --json. KINDS: the kinds a successful run may
    print. CHANGES: the run may change the host (then audit=false adds --no-log). Returns a Run;
    output that breaks the contract (no JSON, an unknown kind or version) fails the task."""
    flags = ['--json']
    if changes and not module.params.get('audit', True):
        flags.append('--no-log')
    args = list(args)
    # options go before a '--' that ends them (what follows it are operands)
    end = args.index('--') if '--' in args else len(args)
    argv = [command_path(module, name)] + args[:end] + flags + args[end:]
    rc, out, err = module.run_command(argv, environ_update=dict(LC_ALL='C'))
    doc = None
    text = out.strip()
    if text:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
    problem = None
    if doc is None:
        problem = 'printed no JSON document'
    elif not _known(doc):
        problem = 'printed a document this collection cannot read (kind %r, version %r)' % (
            doc.get('kind') if isinstance(doc, dict) else None,
            doc.get('version') if isinstance(doc, dict) else None)
    elif rc == EXIT_OK and doc['kind'] not in kinds:
        problem = 'printed a %s document where %s was expected' % (doc['kind'], ' or '.join(kinds))
    elif rc != EXIT_OK and doc['kind'] != 'numasafe-error':
        problem = 'exited %d without a numasafe-error document' % rc
    if problem:
        module.fail_json(msg='%s %s (exit %d): %s' % (name, problem, rc, err.strip() or text[:500]),
                         rc=rc, cmd=argv, stdout=out, stderr=err, document=None, error=None,
                         refused=False, partial=False, reason=None, code=rc)
    return Run(argv, rc, doc, err)


def outcome(run, changed):
    """The module result of a run, by the contract: CHANGED is whether the host changed, as the
    module reads it from run.document. A refusal (4) changes nothing; a partial stop (5) has
    changed something by definition."""
    err = run.error
    res = dict(
        changed=bool(changed),
        rc=run.rc,
        cmd=run.argv,
        stderr=run.stderr,
        document=run.document,
        error=err,
        code=run.rc,
        reason=err.get('reason') if err else None,
        refused=run.rc == EXIT_REFUSED,
        partial=run.rc == EXIT_PARTIAL,
    )
    if run.rc == EXIT_REFUSED:
        res['changed'] = False
    elif run.rc == EXIT_PARTIAL:
        res['changed'] = True
    if err:
        res['failed'] = True
        res['msg'] = '%s: %s' % (err.get('command', os.path.basename(run.argv[0])), err.get('message', ''))
    return res


def finish(module, res):
    """Exit the module with res (fail_json when it says failed)."""
    if res.pop('failed', False):
        module.fail_json(**res)
    module.exit_json(**res)


def kinds_total(kinds):
    """Bytes of a kinds object (anon, thp, file, shmem, hugetlb) together."""
    if not kinds:
        return 0
    return sum(v for v in kinds.values() if isinstance(v, int))


def ids_text(ids):
    """A list of node or CPU ids as numactl writes it: [0, 1, 2, 5] -> '0-2,5'."""
    ids = sorted(ids or [])
    parts = []
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        parts.append(str(ids[i]) if i == j else '%d-%d' % (ids[i], ids[j]))
        i = j + 1
    return ','.join(parts) if parts else '-'


def vm_text(vm):
    """A VM's identity as the commands print it: 'web1 (pid 4242)'."""
    if not vm:
        return '?'
    name = vm.get('name') or '?'
    pid = vm.get('pid')
    if pid is None or name == 'pid %d' % pid:
        return name
    return '%s (pid %d)' % (name, pid)


def target_args(module):
    """The VM of a run: --domain NAME [--connect URI] or the pid as the argument."""
    p = module.params
    if p.get('domain'):
        args = ['--domain', p['domain']]
        if p.get('connect'):
            args += ['--connect', p['connect']]
        return args
    return [str(p['pid'])]
