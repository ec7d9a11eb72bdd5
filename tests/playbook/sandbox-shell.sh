#!/bin/sh
# Test harness for tests/playbook: runs one sandboxed node's SSH command inside bubblewrap,
# with the node's own /etc /var /opt /root /tmp from NODE_DIR/root over the read-only host.
# sshd runs this as ForceCommand: sandbox-shell.sh NODE_DIR
root=$1/root
set -- bwrap --ro-bind / / --dev /dev --proc /proc
for d in etc var opt root tmp; do
  set -- "$@" --bind "$root/$d" "/$d"
done
set -- "$@" --chdir /root --setenv HOME /root --die-with-parent
case "${SSH_ORIGINAL_COMMAND:-}" in
  sftp|internal-sftp|/usr/lib/openssh/sftp-server) exec "$@" /usr/lib/openssh/sftp-server ;;
  "") exec "$@" /bin/sh -l ;;
  *) exec "$@" /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
