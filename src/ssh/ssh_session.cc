#include "ssh/ssh_session.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <random>
#include <thread>

#include "base/encoding.h"

namespace racksmith::ssh {
namespace {

using Clock = std::chrono::steady_clock;

std::string Where(const transport::Endpoint& n) {
  return n.node + " (" + n.user + "@" + n.address + ":" + std::to_string(n.port) + ")";
}

// Single-quotes a path for the remote POSIX shell.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct SessionCloser {
  void operator()(ssh_session s) const {
    ssh_disconnect(s);
    ssh_free(s);
  }
};

}  // namespace

Result<std::unique_ptr<SshSession>> SshSession::Open(const transport::Endpoint& node,
                                                     transport::HostKeyStore& host_keys,
                                                     std::chrono::milliseconds timeout) {
  long timeout_s = std::max<long>(1, (timeout.count() + 999) / 1000);
  int port = node.port;
  int no = 0;
  std::unique_ptr<ssh_session_struct, SessionCloser> s;
  // The timeout covers the TCP connect and the whole key exchange. A node that is busy
  // (sshd starts a process per connection; a fan-out starts dozens at once) can miss it
  // once and answer the next time: a timed-out connect is tried once more. A refused or
  // reset connection is not (the node is down or not listening).
  for (int attempt = 1;; ++attempt) {
    s.reset(ssh_new());
    if (!s) return Internal("ssh_new failed");
    // Never consult the user's ~/.ssh: every setting comes from the Endpoint.
    ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no);
    ssh_options_set(s.get(), SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
    ssh_options_set(s.get(), SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
    ssh_options_set(s.get(), SSH_OPTIONS_HOST, node.address.c_str());
    ssh_options_set(s.get(), SSH_OPTIONS_PORT, &port);
    ssh_options_set(s.get(), SSH_OPTIONS_USER, node.user.c_str());
    ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &timeout_s);
    if (ssh_connect(s.get()) == SSH_OK) break;
    std::string error = ssh_get_error(s.get());
    if (attempt >= 2 || error.find("Timeout") == std::string::npos)
      return Error(ErrorCode::kUnreachable,
                   Where(node) + ": cannot connect: " + error +
                       (attempt > 1 ? " (" + std::to_string(attempt) + " attempts)" : ""));
    spdlog::info("{}: {}; connecting again", Where(node), error);
  }

  ssh_key server_key = nullptr;
  if (ssh_get_server_publickey(s.get(), &server_key) != SSH_OK) {
    return Error(ErrorCode::kUnreachable, Where(node) + ": no host key presented");
  }
  char* b64 = nullptr;
  std::string key_type = ssh_key_type_to_char(ssh_key_type(server_key));
  int rc = ssh_pki_export_pubkey_base64(server_key, &b64);
  ssh_key_free(server_key);
  if (rc != SSH_OK || b64 == nullptr) return Internal(Where(node) + ": cannot encode host key");
  std::string key = b64;
  ssh_string_free_char(b64);
  auto verdict = transport::CheckHostKey(host_keys, node, key_type, key);
  if (!verdict.ok()) return verdict.error();

  bool authed = false;
  std::string why;
  if (!node.key_path.empty()) {
    ssh_key priv = nullptr;
    if (ssh_pki_import_privkey_file(node.key_path.c_str(), nullptr, nullptr, nullptr, &priv) !=
        SSH_OK) {
      return Error(ErrorCode::kInvalidInput,
                   Where(node) + ": cannot read private key file " + node.key_path +
                       " (expected an unencrypted OpenSSH/PEM ed25519 or RSA key)");
    }
    rc = ssh_userauth_publickey(s.get(), nullptr, priv);
    ssh_key_free(priv);
    authed = rc == SSH_AUTH_SUCCESS;
    if (!authed) why = "key " + node.key_path + " was not accepted";
  }
  if (!authed && node.use_agent) {
    authed = ssh_userauth_agent(s.get(), nullptr) == SSH_AUTH_SUCCESS;
    if (!authed) why += std::string(why.empty() ? "" : "; ") + "no agent key was accepted";
  }
  if (!authed) {
    if (why.empty()) why = "no key file given and the agent was not asked";
    return Error(ErrorCode::kUnreachable, Where(node) + ": authentication failed: " + why);
  }
  return std::unique_ptr<SshSession>(new SshSession(node, s.release()));
}

SshSession::~SshSession() {
  ssh_disconnect(session_);
  ssh_free(session_);
}

bool SshSession::alive() const { return ssh_is_connected(session_) != 0; }

Error SshSession::Fail(ErrorCode code, const std::string& what) const {
  return Error(code, Where(node_) + ": " + what + ": " + ssh_get_error(session_));
}

Result<transport::ExecResult> SshSession::Exec(const transport::ExecRequest& request) {
  auto start = Clock::now();
  ssh_channel ch = ssh_channel_new(session_);
  if (ch == nullptr) return Fail(ErrorCode::kUnreachable, "cannot open a channel");
  struct ChannelFree {
    ssh_channel c;
    ~ChannelFree() {
      ssh_channel_close(c);
      ssh_channel_free(c);
    }
  } guard{ch};
  if (ssh_channel_open_session(ch) != SSH_OK) {
    return Fail(ErrorCode::kUnreachable, "cannot open a session channel");
  }
  if (ssh_channel_request_exec(ch, request.command.c_str()) != SSH_OK) {
    return Fail(ErrorCode::kUnreachable, "cannot start the command");
  }
  transport::ExecResult result;
  auto deliver = [&](int is_stderr, const char* data, int n) {
    std::string_view chunk(data, static_cast<size_t>(n));
    const auto& cb = is_stderr ? request.on_stderr : request.on_stdout;
    if (cb) {
      cb(chunk);
    } else {
      (is_stderr ? result.stderr_text : result.stdout_text).append(chunk);
    }
  };
  char buf[65536];
  while (true) {
    int n, m = 0;
    bool got = false;
    while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof buf, 0)) > 0) {
      deliver(0, buf, n);
      got = true;
    }
    if (n != SSH_ERROR) {
      while ((m = ssh_channel_read_nonblocking(ch, buf, sizeof buf, 1)) > 0) {
        deliver(1, buf, m);
        got = true;
      }
    }
    if (n == SSH_ERROR || m == SSH_ERROR) {
      return Fail(ErrorCode::kUnreachable, "connection lost during the command");
    }
    if (!got && (ssh_channel_is_eof(ch) || !ssh_channel_is_open(ch))) break;
    if (!got) {
      // libssh has drained the socket into its buffers: waiting on the fd is safe.
      pollfd pfd{ssh_get_fd(session_), POLLIN, 0};
      ::poll(&pfd, 1, 50);
    }
    if (request.cancel != nullptr && request.cancel->load()) {
      ssh_channel_request_send_signal(ch, "KILL");
      return Error(ErrorCode::kRefused, Where(node_) + ": command cancelled");
    }
    if (request.timeout.count() > 0 && Clock::now() - start > request.timeout) {
      // OpenSSH delivers the signal to the command; closing the channel then ends it.
      ssh_channel_request_send_signal(ch, "KILL");
      return Error(ErrorCode::kTimeout, Where(node_) + ": command still running after " +
                                            std::to_string(request.timeout.count()) +
                                            " ms; stopped waiting and closed its channel");
    }
  }
  ssh_channel_send_eof(ch);
  result.exit_status = ssh_channel_get_exit_status(ch);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

Status SshSession::Upload(const transport::UploadRequest& request) {
  const std::string& path = request.remote_path;
  if (path.empty() || path[0] != '/') {
    return InvalidInput(Where(node_) + ": upload target must be an absolute path, found '" + path +
                        "'");
  }
  sftp_session sftp = sftp_new(session_);
  if (sftp == nullptr) return Fail(ErrorCode::kIo, "cannot start SFTP");
  struct SftpFree {
    sftp_session s;
    ~SftpFree() { sftp_free(s); }
  } guard{sftp};
  if (sftp_init(sftp) != SSH_OK) return Fail(ErrorCode::kIo, "cannot start SFTP");
  size_t slash = path.rfind('/');
  std::string tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".racksmith-" +
                    std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()) +
                    ".tmp";
  sftp_file f = sftp_open(sftp, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (f == nullptr) return Fail(ErrorCode::kIo, "cannot create " + tmp);
  size_t off = 0;
  while (off < request.content.size()) {
    size_t chunk = std::min<size_t>(32768, request.content.size() - off);
    ssize_t w = sftp_write(f, request.content.data() + off, chunk);
    if (w <= 0) {
      sftp_close(f);
      sftp_unlink(sftp, tmp.c_str());
      return Fail(ErrorCode::kIo, "writing " + tmp + " failed");
    }
    off += static_cast<size_t>(w);
  }
  sftp_close(f);
  auto cleanup_fail = [&](const std::string& what) -> Status {
    Error e = Fail(ErrorCode::kIo, what);
    sftp_unlink(sftp, tmp.c_str());
    return e;
  };
  if (sftp_chmod(sftp, tmp.c_str(), static_cast<mode_t>(request.mode)) != SSH_OK) {
    return cleanup_fail("cannot set mode of " + tmp);
  }
  if (request.uid || request.gid) {
    if (sftp_chown(sftp, tmp.c_str(), request.uid.value_or(-1), request.gid.value_or(-1)) !=
        SSH_OK) {
      return cleanup_fail("cannot set owner of " + tmp);
    }
  }
  // Verify what landed before it replaces anything.
  transport::ExecRequest check;
  check.command = "sha256sum " + ShellQuote(tmp);
  auto sum = Exec(check);
  std::string want = Sha256Hex(request.content);
  if (!sum.ok() || sum->exit_status != 0 || sum->stdout_text.substr(0, 64) != want) {
    sftp_unlink(sftp, tmp.c_str());
    return Error(ErrorCode::kIo,
                 Where(node_) + ": sha256 of uploaded " + tmp + " does not match: expected " +
                     want + ", found '" +
                     (sum.ok() ? sum->stdout_text.substr(0, 64) : sum.error().message()) + "'");
  }
  // SFTP v3 rename refuses an existing target; rename(2) in the same folder is atomic.
  transport::ExecRequest mv;
  mv.command = "mv -f " + ShellQuote(tmp) + " " + ShellQuote(path);
  auto moved = Exec(mv);
  if (!moved.ok() || moved->exit_status != 0) {
    return cleanup_fail("cannot rename " + tmp + " to " + path +
                        (moved.ok() ? ": " + moved->stderr_text : ""));
  }
  return Status::Ok();
}

Result<std::string> SshSession::Download(const std::string& remote_path) {
  sftp_session sftp = sftp_new(session_);
  if (sftp == nullptr) return Fail(ErrorCode::kIo, "cannot start SFTP");
  struct SftpFree {
    sftp_session s;
    ~SftpFree() { sftp_free(s); }
  } guard{sftp};
  if (sftp_init(sftp) != SSH_OK) return Fail(ErrorCode::kIo, "cannot start SFTP");
  sftp_file f = sftp_open(sftp, remote_path.c_str(), O_RDONLY, 0);
  if (f == nullptr) return Fail(ErrorCode::kIo, "cannot open " + remote_path);
  std::string out;
  char buf[32768];
  ssize_t n;
  while ((n = sftp_read(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  sftp_close(f);
  if (n < 0) return Fail(ErrorCode::kIo, "reading " + remote_path + " failed");
  return out;
}

}  // namespace racksmith::ssh
