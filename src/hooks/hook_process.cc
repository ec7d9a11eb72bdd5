#include "hooks/hook_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "base/spawn.h"

namespace racksmith::hooks::internal {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// One end of a pipe the parent reads, with what was kept of it.
struct Reader {
  int fd = -1;
  std::string* into = nullptr;
};

// Reads what is there now (the fd is non-blocking); closes the fd at EOF or on an error.
void ReadAvailable(Reader& r, size_t max_capture) {
  char buf[16384];
  while (r.fd >= 0) {
    ssize_t got = read(r.fd, buf, sizeof buf);
    if (got > 0) {
      size_t room = max_capture > r.into->size() ? max_capture - r.into->size() : 0;
      r.into->append(buf, std::min(room, static_cast<size_t>(got)));  // the rest is dropped
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    CloseFd(r.fd);  // EOF or an error
  }
}

// True once the child has exited; it is left a zombie (not reaped), so its pid and process
// group cannot be reused while we still signal the group.
bool HasExited(pid_t pid) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno != EINTR;  // ECHILD: nothing to wait for
  }
  return info.si_pid == pid;
}

bool SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

ProcessResult RunProcess(const std::string& path, const std::string& input,
                         const std::map<std::string, std::string>& env, const std::string& cwd,
                         int64_t timeout_ms, size_t max_capture, int64_t grace_ms) {
  ProcessResult result;
  SteadyClock::time_point begin = SteadyClock::now();
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  auto close_all = [&] {
    for (int* p : {in, out, err}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    result.start_error = std::string("pipe: ") + std::strerror(errno);
    close_all();
    return result;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  InitChildSpawnAttributes(&attr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string arg0 = path;
  char* argv[] = {arg0.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  CloseFd(in[0]);
  CloseFd(out[1]);
  CloseFd(err[1]);
  if (rc != 0) {
    result.start_error = std::strerror(rc);
    close_all();
    result.duration_ms = MillisSince(begin);
    return result;
  }
  int stdin_fd = in[1];
  Reader readers[2] = {{out[0], &result.out}, {err[0], &result.err}};
  SetNonBlocking(stdin_fd);
  for (Reader& r : readers) SetNonBlocking(r.fd);

  // A hook that exits without reading its stdin makes our write fail with EPIPE; SIGPIPE is
  // sent to this thread, so it is blocked here while we write and taken back afterwards.
  sigset_t pipe_set, old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  bool got_epipe = false;

  size_t written = 0;
  if (input.empty()) CloseFd(stdin_fd);
  SteadyClock::time_point deadline = begin + std::chrono::milliseconds(timeout_ms);
  bool exited = false;
  for (;;) {
    if (HasExited(pid)) {
      exited = true;
      break;
    }
    int64_t left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now())
            .count();
    if (left <= 0) break;
    pollfd fds[3];
    int n = 0;
    if (stdin_fd >= 0) fds[n++] = {stdin_fd, POLLOUT, 0};
    for (Reader& r : readers) {
      if (r.fd >= 0) fds[n++] = {r.fd, POLLIN, 0};
    }
    // With pipes open, wake at least every 50 ms to notice an exit while something the hook
    // started still holds them; with none, this is a short sleep until the exit shows.
    int wait_ms = static_cast<int>(std::min<int64_t>(left, n == 0 ? 1 : 50));
    if (poll(fds, static_cast<nfds_t>(n), wait_ms) < 0 && errno != EINTR) break;
    if (stdin_fd >= 0) {
      size_t chunk = std::min<size_t>(input.size() - written, 65536);
      ssize_t put = write(stdin_fd, input.data() + written, chunk);
      if (put > 0) {
        written += static_cast<size_t>(put);
        if (written == input.size()) CloseFd(stdin_fd);
      } else if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        got_epipe = got_epipe || errno == EPIPE;
        CloseFd(stdin_fd);  // it stopped reading: what it has is what it gets
      }
    }
    for (Reader& r : readers) ReadAvailable(r, max_capture);
  }
  CloseFd(stdin_fd);

  if (!exited) {
    result.timed_out = true;
    kill(-pid, SIGTERM);
    SteadyClock::time_point grace_end = SteadyClock::now() + std::chrono::milliseconds(grace_ms);
    while (!HasExited(pid) && SteadyClock::now() < grace_end) {
      for (Reader& r : readers) ReadAvailable(r, max_capture);
      usleep(10'000);
    }
  }
  // Whatever the hook left in its group goes with it (the group's leader is still a zombie,
  // so the group id cannot have been reused). SIGKILL also ends a leader that ignored TERM.
  kill(-pid, SIGKILL);
  for (Reader& r : readers) ReadAvailable(r, max_capture);
  for (Reader& r : readers) CloseFd(r.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -WTERMSIG(status);
  }

  if (got_epipe && !sigismember(&old_mask, SIGPIPE)) {
    timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  result.duration_ms = MillisSince(begin);
  return result;
}

}  // namespace racksmith::hooks::internal
