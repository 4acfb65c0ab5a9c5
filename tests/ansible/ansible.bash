# Shared by the numasafe.kvm suites (tests/ansible/*.bats): the project's bats helpers, the
# collection installed where Ansible finds it, and one-module runs whose result is kept as JSON.

load ../helpers

# ansible/ copied to ansible_collections/numasafe/kvm under this file's temporary directory,
# and Ansible told to look there, run locally with Debian's Python, and keep its files there.
ns_ansible_setup() {
	command -v ansible-playbook >/dev/null || ns_skip "needs ansible-core (tests/deps.sh)"
	NS_COLLECTIONS=$BATS_FILE_TMPDIR/collections
	rm -rf "$NS_COLLECTIONS"
	mkdir -p "$NS_COLLECTIONS/ansible_collections/numasafe"
	cp -a "$NS_TOP/ansible" "$NS_COLLECTIONS/ansible_collections/numasafe/kvm"
	export ANSIBLE_COLLECTIONS_PATH=$NS_COLLECTIONS
	export ANSIBLE_HOME=$BATS_FILE_TMPDIR/ansible-home
	export ANSIBLE_LOCAL_TEMP=$BATS_FILE_TMPDIR/ansible-tmp ANSIBLE_REMOTE_TEMP=$BATS_FILE_TMPDIR/ansible-tmp
	export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
	export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_LOCALHOST_WARNING=0
	# the commands of this tree, through the suites' JSON-keeping wrapper when there is one
	if [ -x "$NS_BIN/numa-plan" ]; then
		NS_MOD_BIN=$NS_BIN
	else
		NS_MOD_BIN=$NS_REAL_BIN
	fi
}

# ns_module MODULE [ansible options...] -- key=value...: one run of numasafe.kvm.MODULE on
# localhost. Sets MOD_STATUS (SUCCESS, CHANGED, FAILED!) and MOD (its result as JSON).
# bin_dir and audit=false are added.
ns_module() {
	local mod=$1 line
	shift
	local -a opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	line=$(ansible localhost -i localhost, -c local -o ${opts[@]+"${opts[@]}"} -m "numasafe.kvm.$mod" \
		-a "$* bin_dir=$NS_MOD_BIN audit=false" 2>"$BATS_TEST_TMPDIR/ansible.err" | grep '^localhost | ')
	MOD_STATUS=$(sed -n 's/^localhost | \([A-Z!]*\).*/\1/p' <<<"$line")
	MOD=${line#*=> }
	[ -n "$MOD_STATUS" ] && jq -e . >/dev/null <<<"$MOD" ||
		fail "ansible $mod $*: no result: $line $(cat "$BATS_TEST_TMPDIR/ansible.err")"
}

# jq -e EXPR over MOD, failing the test with the result when it does not hold.
assert_mod() {
	jq -e "$@" >/dev/null <<<"$MOD" || fail "$MOD_STATUS: $(jq -c "$@" <<<"$MOD") is not true for: $(jq -c . <<<"$MOD" | cut -c1-2000)"
}

# Every thread's Cpus_allowed_list of PID, one line each, sorted: the kernel's view, not the module's.
thread_cpus() {
	local t
	for t in /proc/"$1"/task/*; do awk '/^Cpus_allowed_list/ {print $2}' "$t/status"; done | sort
}
