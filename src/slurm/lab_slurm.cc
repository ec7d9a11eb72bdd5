// The lab's real Slurm: munged + slurmctld + one slurmd per node, all on 127.0.0.1.
// Findings behind each setting are in docs/slurm.md ("A real slurmctld in the lab").
#include "slurm/lab_slurm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "slurm/child_process.h"

namespace racksmith::slurm {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct LabSlurm::Impl {
  std::string dir;
  std::string conf;
  int port = 0;
  std::vector<LabSlurmNode> nodes;
  LabSlurmOptions options;
  LabSlurmTimings timings;
  pid_t munged = -1;
  pid_t slurmctld = -1;
  std::vector<pid_t> slurmds;

  std::map<std::string, std::string> Env() const { return {{"SLURM_CONF", conf}}; }
  void Stop();
};

namespace {

int MsSince(Clock::time_point t) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

std::string Tail(const std::string& path, size_t max_chars = 1200) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  return s.empty() ? "(empty log)" : s;
}

Status WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return IoError("lab slurm: cannot write " + path + ": " + strerror(errno));
  bool ok = fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = (close(fd) == 0) && ok;
  if (!ok) return IoError("lab slurm: cannot write " + path + ": " + strerror(errno));
  return Status::Ok();
}

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// `count` consecutive free ports on 127.0.0.1 starting at `port`, or a free range if 0.
Result<int> PickPorts(int port, int count) {
  if (port != 0) {
    if (port < 1024 || port + count > 65535) {
      return InvalidInput("lab slurm: expected a port in 1024.." + std::to_string(65535 - count) +
                          " (it uses " + std::to_string(count) + " ports), found " +
                          std::to_string(port));
    }
    return port;
  }
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> dist(20000, 60000 - count);
  for (int attempt = 0; attempt < 50; ++attempt) {
    int base = dist(rng);
    bool all = true;
    for (int p = base; p < base + count && all; ++p) all = PortFree(p);
    if (all) return base;
  }
  return IoError("lab slurm: found no " + std::to_string(count) + " free ports on 127.0.0.1");
}

std::string CurrentUser() {
  passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(geteuid());
}

std::string SlurmConf(const LabSlurm::Impl& lab) {
  const std::string& d = lab.dir;
  std::string user = CurrentUser();
  std::ostringstream c;
  c << "# Written by racksmith's lab (src/slurm/lab_slurm.cc); see docs/slurm.md.\n"
    << "ClusterName=racksmithlab\n"
    << "SlurmctldHost=localhost(127.0.0.1)\n"
    << "SlurmctldPort=" << lab.port << "\n"
    << "SlurmdPort=" << lab.port + 1 << "\n"
    << "CommunicationParameters=NoCtldInAddrAny,NoInAddrAny\n"
    << "SlurmUser=" << user << "\nSlurmdUser=" << user << "\n"
    << "AuthType=auth/munge\nCredType=cred/munge\n"
    << "AuthInfo=socket=" << d << "/munge/munged.sock\n"
    << "StateSaveLocation=" << d << "/state\n"
    << "SlurmdSpoolDir=" << d << "/spool/%n\n"
    << "SlurmctldPidFile=" << d << "/run/slurmctld.pid\n"
    << "SlurmdPidFile=" << d << "/run/slurmd-%n.pid\n"
    << "SlurmctldLogFile=" << d << "/log/slurmctld.log\n"
    << "SlurmdLogFile=" << d << "/log/slurmd-%n.log\n"
    << "PlugStackConfig=" << d << "/plugstack.conf\n"
    << "SlurmctldDebug=info\nSlurmdDebug=info\n"
    << "MailProg=/bin/true\n"
    << "ProctrackType=proctrack/pgid\nTaskPlugin=task/none\n"
    << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
    << "JobCompType=jobcomp/none\nMpiDefault=none\n"
    << "SchedulerType=sched/builtin\nSelectType=select/cons_tres\n"
    // The node's real hardware (2 cores here) must not drain a node configured with more.
    << "SlurmdParameters=config_overrides\n"
    << "ReturnToService=2\nSlurmdTimeout=30\n"
    << "GresTypes=gpu\n";
  for (size_t i = 0; i < lab.nodes.size(); ++i) {
    const LabSlurmNode& n = lab.nodes[i];
    c << "NodeName=" << n.name << " NodeAddr=127.0.0.1 NodeHostname=" << n.name
      << " Port=" << lab.port + 1 + static_cast<int>(i) << " CPUs=" << n.cpus;
    if (n.gpus > 0) c << " Gres=gpu:" << n.gpus;
    c << " State=UNKNOWN\n";
  }
  c << "PartitionName=" << lab.options.partition << " Nodes=ALL Default=YES State=UP\n";
  return c.str();
}

std::string GresConf(const LabSlurm::Impl& lab) {
  std::ostringstream c;
  c << "AutoDetect=off\n";
  for (const LabSlurmNode& n : lab.nodes) {
    if (n.gpus <= 0) continue;
    c << "NodeName=" << n.name << " Name=gpu File=" << lab.dir << "/dev/gpu";
    if (n.gpus == 1) {
      c << "0\n";
    } else {
      c << "[0-" << n.gpus - 1 << "]\n";
    }
  }
  return c.str();
}

Status WriteLayout(const LabSlurm::Impl& lab) {
  const std::string& d = lab.dir;
  std::error_code ec;
  for (const char* sub : {"munge", "state", "spool", "run", "log", "dev"}) {
    fs::create_directories(d + "/" + sub, ec);
    if (ec) return IoError("lab slurm: cannot create " + d + "/" + sub + ": " + ec.message());
  }
  for (const auto& n : lab.nodes) fs::create_directories(d + "/spool/" + n.name, ec);
  // munged wants every directory above its socket searchable by all; it is started with
  // --force, which makes that a warning for the parents (a 0700 temporary folder).
  fs::permissions(d + "/munge", fs::perms(0755), fs::perm_options::replace, ec);
  int max_gpus = 0;
  for (const auto& n : lab.nodes) max_gpus = std::max(max_gpus, n.gpus);
  for (int i = 0; i < max_gpus; ++i) {
    std::string link = d + "/dev/gpu" + std::to_string(i);
    fs::remove(link, ec);
    fs::create_symlink("/dev/null", link, ec);
    if (ec) return IoError("lab slurm: cannot create " + link + ": " + ec.message());
  }
  std::string key(128, '\0');
  if (getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size())) {
    return IoError("lab slurm: getrandom failed for the munge key");
  }
  if (Status s = WriteFile(d + "/munge/munge.key", key, 0600); !s.ok()) return s;
  if (Status s = WriteFile(lab.conf, SlurmConf(lab), 0644); !s.ok()) return s;
  if (Status s = WriteFile(d + "/gres.conf", GresConf(lab), 0644); !s.ok()) return s;
  return WriteFile(d + "/plugstack.conf", "", 0644);
}

// Polls `ready` every 50 ms until it is true, `pid` dies, or the deadline passes.
Status WaitFor(const std::function<bool()>& ready, pid_t pid, const std::string& what,
               const std::string& log, Clock::time_point deadline) {
  while (true) {
    if (ready()) return Status::Ok();
    if (pid > 0 && !internal::ChildRunning(pid)) {
      return IoError("lab slurm: " + what + " exited while starting; its log " + log + ":\n" +
                     Tail(log));
    }
    if (Clock::now() >= deadline) {
      return Error(ErrorCode::kTimeout,
                   "lab slurm: " + what + " not ready in time; its log " + log + ":\n" + Tail(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Every node named in `lab` is registered and responding, as scontrol reports it.
bool AllResponding(const LabSlurm::Impl& lab, std::string* states) {
  auto r = internal::RunCommand({"scontrol", "show", "node", "-o"}, lab.Env(), 10'000);
  if (!r.ok() || r->exit_code != 0) return false;
  auto nodes = ParseShowNodes(r->out);
  if (!nodes.ok()) return false;
  size_t good = 0;
  if (states != nullptr) states->clear();
  for (const auto& n : *nodes) {
    if (states != nullptr) *states += n.name + "=" + n.StateText() + " ";
    if (n.base_state != "UNKNOWN" && !n.HasFlag("NOT_RESPONDING")) ++good;
  }
  return good == lab.nodes.size() && nodes->size() == lab.nodes.size();
}

// Kills processes of this user whose working directory is under `dir`: what jobs left
// (slurmstepd, batch scripts) after their slurmd was stopped. Matching by directory, not by
// name, so nothing outside this lab is touched.
void KillLeftoversUnder(const std::string& dir) {
  std::string prefix = dir + "/";
  for (int round = 0; round < 3; ++round) {
    bool found = false;
    std::error_code ec;
    fs::directory_iterator it("/proc", ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      pid_t pid = static_cast<pid_t>(std::stol(name));
      if (pid == getpid()) continue;
      struct stat st {};
      if (stat(it->path().c_str(), &st) != 0 || st.st_uid != geteuid()) continue;
      std::error_code e2;
      std::string cwd = fs::read_symlink(it->path() / "cwd", e2).string();
      if (e2 || (cwd != dir && cwd.rfind(prefix, 0) != 0)) continue;
      kill(pid, SIGKILL);
      found = true;
    }
    if (!found) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

void LabSlurm::Impl::Stop() {
  for (pid_t& p : slurmds) {
    internal::StopChild(p, 5'000);
    p = -1;
  }
  internal::StopChild(slurmctld, 10'000);
  slurmctld = -1;
  internal::StopChild(munged, 5'000);
  munged = -1;
  if (!dir.empty()) KillLeftoversUnder(dir);
}

LabSlurm::LabSlurm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LabSlurm::LabSlurm(LabSlurm&&) noexcept = default;
LabSlurm& LabSlurm::operator=(LabSlurm&& other) noexcept {
  if (this != &other) {
    Stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
LabSlurm::~LabSlurm() { Stop(); }

const std::string& LabSlurm::dir() const { return impl_->dir; }
const std::string& LabSlurm::slurm_conf() const { return impl_->conf; }
int LabSlurm::port() const { return impl_->port; }
const std::vector<LabSlurmNode>& LabSlurm::nodes() const { return impl_->nodes; }
const LabSlurmTimings& LabSlurm::timings() const { return impl_->timings; }
std::map<std::string, std::string> LabSlurm::env() const { return impl_->Env(); }

ScontrolOptions LabSlurm::scontrol_options() const {
  ScontrolOptions o;
  o.slurm_conf = impl_->conf;
  return o;
}

std::vector<pid_t> LabSlurm::pids() const {
  std::vector<pid_t> out;
  if (!impl_) return out;
  for (pid_t p : {impl_->munged, impl_->slurmctld}) {
    if (internal::ChildRunning(p)) out.push_back(p);
  }
  for (pid_t p : impl_->slurmds) {
    if (internal::ChildRunning(p)) out.push_back(p);
  }
  return out;
}

Status LabSlurm::WaitResponding(int timeout_ms) const {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string states;
  while (!AllResponding(*impl_, &states)) {
    if (Clock::now() >= deadline) {
      return Error(ErrorCode::kTimeout, "lab slurm: nodes not all responding after " +
                                            std::to_string(timeout_ms) + " ms: " + states);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Ok();
}

void LabSlurm::Stop() {
  if (impl_) impl_->Stop();
}

bool LabSlurmInstalled(const LabSlurmOptions& options) {
  for (const char* d : {"munged", "slurmctld", "slurmd"}) {
    if (access((options.sbin_dir + "/" + d).c_str(), X_OK) != 0) return false;
  }
  return true;
}

Result<LabSlurm> StartLabSlurm(const std::string& dir, const std::vector<LabSlurmNode>& nodes,
                               int port, const LabSlurmOptions& options) {
  auto impl = std::make_unique<LabSlurm::Impl>();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("lab slurm: cannot create " + dir + ": " + ec.message());
  impl->dir = fs::weakly_canonical(fs::absolute(dir, ec), ec).string();
  if (ec || impl->dir.find_first_of(" \t\n#=") != std::string::npos) {
    return InvalidInput(
        "lab slurm: expected a directory path without spaces, '#' or '=', "
        "found \"" +
        dir + "\"");
  }
  if (impl->dir.size() + sizeof("/munge/munged.sock") > 100) {
    return InvalidInput("lab slurm: directory path too long for a unix socket: " + impl->dir);
  }
  if (nodes.empty()) return InvalidInput("lab slurm: expected at least one node");
  for (const auto& n : nodes) {
    if (!ValidName(n.name) || n.cpus < 1 || n.gpus < 0 || n.gpus > 64) {
      return InvalidInput(
          "lab slurm: expected a node name of letters, digits, '-' or '_', "
          "cpus >= 1 and 0..64 gpus, found \"" +
          n.name + "\" cpus=" + std::to_string(n.cpus) + " gpus=" + std::to_string(n.gpus));
    }
  }
  if (!LabSlurmInstalled(options)) {
    return NotFound("lab slurm: munged, slurmctld and slurmd are not all in " + options.sbin_dir);
  }
  int count = static_cast<int>(nodes.size()) + 2;
  Result<int> base = PickPorts(port, count);
  if (!base.ok()) return base.error();
  impl->port = *base;
  impl->nodes = nodes;
  impl->options = options;
  impl->conf = impl->dir + "/slurm.conf";
  if (Status s = WriteLayout(*impl); !s.ok()) return s.error();

  const std::string& d = impl->dir;
  const std::string sbin = options.sbin_dir + "/";
  auto deadline = Clock::now() + std::chrono::milliseconds(options.start_timeout_ms);
  LabSlurm lab(std::move(impl));  // from here on, an early return stops what was started
  LabSlurm::Impl& L = *lab.impl_;

  auto t = Clock::now();
  std::string munge_log = d + "/log/munged.out";
  Result<pid_t> munged = internal::SpawnDaemon(
      {sbin + "munged", "--foreground", "--force", "--socket=" + d + "/munge/munged.sock",
       "--key-file=" + d + "/munge/munge.key", "--log-file=" + d + "/log/munged.log",
       "--pid-file=" + d + "/run/munged.pid", "--seed-file=" + d + "/munge/munged.seed"},
      {}, d, munge_log);
  if (!munged.ok()) return munged.error();
  L.munged = *munged;
  std::string sock = d + "/munge/munged.sock";
  if (Status s = WaitFor([&] { return fs::exists(sock); }, L.munged, "munged", munge_log, deadline);
      !s.ok()) {
    return s.error();
  }
  L.timings.munged_ms = MsSince(t);

  t = Clock::now();
  std::string ctld_log = d + "/log/slurmctld.log";
  Result<pid_t> ctld = internal::SpawnDaemon({sbin + "slurmctld", "-D", "-f", L.conf}, L.Env(), d,
                                             d + "/log/slurmctld.out");
  if (!ctld.ok()) return ctld.error();
  L.slurmctld = *ctld;
  auto ping = [&] {
    auto r = internal::RunCommand({"scontrol", "ping"}, L.Env(), 5'000);
    return r.ok() && r->exit_code == 0 && r->out.find("is UP") != std::string::npos;
  };
  if (Status s = WaitFor(ping, L.slurmctld, "slurmctld", ctld_log, deadline); !s.ok()) {
    return s.error();
  }
  L.timings.slurmctld_ms = MsSince(t);

  if (!options.start_slurmd) return lab;
  t = Clock::now();
  for (const auto& n : nodes) {
    Result<pid_t> slurmd =
        internal::SpawnDaemon({sbin + "slurmd", "-D", "-N", n.name, "-f", L.conf}, L.Env(), d,
                              d + "/log/slurmd-" + n.name + ".out");
    if (!slurmd.ok()) return slurmd.error();
    L.slurmds.push_back(*slurmd);
  }
  std::string states;
  while (!AllResponding(L, &states)) {
    for (size_t i = 0; i < L.slurmds.size(); ++i) {
      if (!internal::ChildRunning(L.slurmds[i])) {
        std::string log = d + "/log/slurmd-" + nodes[i].name + ".out";
        return IoError("lab slurm: slurmd for " + nodes[i].name + " exited while starting; " + log +
                       ":\n" + Tail(log));
      }
    }
    if (Clock::now() >= deadline) {
      return Error(ErrorCode::kTimeout, "lab slurm: nodes not all responding in time: " + states +
                                            "; see " + d + "/log/slurmctld.log:\n" +
                                            Tail(ctld_log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  L.timings.nodes_ms = MsSince(t);
  return lab;
}

}  // namespace racksmith::slurm
