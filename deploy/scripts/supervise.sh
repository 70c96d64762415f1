# Sourced by run.sh: `supervise NAME COMMAND...` runs COMMAND and starts it again, after a
# second, whenever it exits, logging each exit and restart, until the supervisor itself gets
# SIGTERM or SIGINT, which it passes on to COMMAND before it returns. A crashed service is
# back within seconds; one whose bus task died exits non-zero on purpose (it cannot heal
# in place), and comes back the same way.
supervise() {
  local name=$1 child=0 stopping=0 code
  shift
  trap 'stopping=1; [ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null' TERM INT
  while :; do
    "$@" &
    child=$!
    code=0
    wait "$child" || code=$?
    # A trap interrupts `wait`; the child is still stopping: wait for it.
    while kill -0 "$child" 2>/dev/null; do wait "$child" || code=$?; done
    [ "$stopping" = 1 ] && return 0
    echo "[supervise] $name exited with status $code; restarting it in 1 s"
    sleep 1
    [ "$stopping" = 1 ] && return 0
    echo "[supervise] $name restarted"
  done
}
