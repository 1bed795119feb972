# SPDX-License-Identifier: BSD-3-Clause
# runner.sh - sourced (". runner.sh", bash) by the case runners that run INSIDE
# the test VM (tests/interop/cases.sh, tests/pci/guest.sh): how one case is
# picked, bounded and judged. The caller sets BUDGET (seconds for the whole
# run, 0: none) and runs each case as a function in its own bash.

# runner_selected NAME [PATTERN...]: NAME matches a PATTERN, or none is given
runner_selected() {
  local name=$1 p
  shift
  [ $# = 0 ] && return 0
  # shellcheck disable=SC2254 # the patterns are globs
  for p in "$@"; do case $name in $p) return 0;; esac; done
  return 1
}

# runner_budget LABEL SECS MIN: sets limit to SECS, or to what is left of
# BUDGET when that is less; when less than MIN is left, prints the case's FAIL
# line ("not run") and returns 1
runner_budget() {
  local left
  limit=$2
  [ "$BUDGET" -gt 0 ] || return 0
  left=$((BUDGET - SECONDS))
  if [ $left -lt "$3" ]; then
    echo "FAIL $1: not run: the suite's time budget of ${BUDGET}s is used up"
    return 1
  fi
  [ $left -lt "$limit" ] && limit=$left
  return 0
}

# runner_exec FN OUT: runs the function FN in its own bash bounded by $limit,
# its output in OUT; returns its status (124 or 137: it timed out)
runner_exec() {
  # shellcheck disable=SC2163 # $1 names the function
  export -f "$1"
  timeout -k 3 "$limit" bash -c "$1" > "$2" 2>&1
}

# runner_why RC OUT: why the case that returned RC with output OUT failed
runner_why() {
  local why
  if [ "$1" = 124 ] || [ "$1" = 137 ]; then
    echo "timed out after ${limit}s"
  else
    why=$(grep -v '^\s*$' "$2" | tail -1)
    echo "${why:-exit status $1}"
  fi
}
