// The lab's supervisor (`racksmith lab serve`): hosts every node's simulated Redfish BMC and
// keeps each node's sshd in step with the BMC's power: off stops the sshd and every process
// of the node's sandbox; on boots it (boot time / speed) with a new boot_id; a Pxe boot
// override or a reimage request gives it a fresh root. Requests arrive as files under
// DIR/requests/ (LabRack::Request).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "lab/lab_rack_internal.h"
#include "lab/redfish_sim.h"
#include "slurm/lab_slurm.h"

namespace racksmith::lab {
namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Log(const std::string& line) { std::cerr << "lab serve: " << line << std::endl; }

enum class NodeState { kOff, kBooting, kUp, kHung };
const char* StateName(NodeState s) {
  switch (s) {
    case NodeState::kOff:
      return "down";
    case NodeState::kBooting:
      return "booting";
    case NodeState::kUp:
      return "up";
    case NodeState::kHung:
      return "hung";
  }
  return "down";
}

struct NodeRun {
  LabNodeSpec spec;
  RedfishSim* sim = nullptr;
  NodeState state = NodeState::kOff;
  int64_t due_ms = 0;
  pid_t pid = -1;
  uint64_t epoch = 0;
  bool reimage = false;
  bool pxe_fails = false;  // fault pxe-fails: a network boot falls back to the old root
  bool hang = false;
  int64_t restart_ms = 0;  // an sshd that exited is started again from then on
};

// Every process that belongs to the node: its sshd's descendants, and any process whose
// environment carries RACKSMITH_LAB_NODE=<node dir> (node-shell sets it in the sandbox), so
// that a sandboxed process that outlived its session goes down with the node too.
std::vector<pid_t> NodeProcesses(pid_t sshd, const std::string& node_dir) {
  const std::string marker = "RACKSMITH_LAB_NODE=" + node_dir;
  std::map<pid_t, pid_t> parent;
  std::vector<pid_t> all;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
      if (pid <= 1) continue;
      std::string stat = ReadProcFile("/proc/" + std::string(e->d_name) + "/stat");
      size_t close = stat.rfind(')');
      if (close == std::string::npos) continue;
      char state = 0;
      int ppid = 0;
      if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
      parent[pid] = ppid;
      all.push_back(pid);
    }
    closedir(d);
  }
  std::set<pid_t> out;
  if (sshd > 0) out.insert(sshd);
  for (bool grew = true; grew && sshd > 0;) {
    grew = false;
    for (pid_t p : all)
      if (!out.count(p) && out.count(parent[p])) grew = out.insert(p).second || grew;
  }
  for (pid_t p : all) {
    if (out.count(p) || p == getpid()) continue;
    std::string environ = ReadProcFile("/proc/" + std::to_string(p) + "/environ");
    for (size_t start = 0; start < environ.size();) {
      size_t end = environ.find('\0', start);
      if (end == std::string::npos) end = environ.size();
      if (environ.compare(start, end - start, marker) == 0) {
        out.insert(p);
        break;
      }
      start = end + 1;
    }
  }
  return std::vector<pid_t>(out.begin(), out.end());
}

class Supervisor {
 public:
  Supervisor(fs::path dir, LabSettings settings) : dir_(std::move(dir)), settings_(settings) {}

  Status AddNodes(const std::vector<LabNodeSpec>& specs, const std::string& password) {
    json models = GpuModels();
    for (const auto& spec : specs) {
      std::string scheme = spec.bmc_scheme;
      if (!sims_.count(scheme)) {
        SimOptions o;
        o.lab_dir = dir_.string();
        o.speed = settings_.speed;
        o.username = settings_.bmc_username;
        o.password = password;
        o.on_power_loss = [this](const std::string& node) { CutPower(node); };
        if (scheme == "https") {
          o.tls_cert = (dir_ / "keys/bmc_cert.pem").string();
          o.tls_key = (dir_ / "keys/bmc_key.pem").string();
        }
        sims_[scheme] = std::make_unique<RedfishSim>(o);
      }
      SimNode sn;
      sn.name = spec.name;
      sn.address = spec.bmc_ip;
      sn.port = spec.bmc_port;
      sn.serial = "LAB-" + spec.name;
      sn.cpus = 2;
      sn.cores_per_cpu = std::max(1, spec.cpus / 4);  // 2 sockets x cores x 2 threads = cpus
      sn.memory_gib = spec.memory_gib;
      sn.mac = spec.mac.empty() ? sn.mac : spec.mac;
      sn.bios_version = spec.bios_version;
      sn.bmc_version = spec.bmc_version;
      sn.initial_power = "On";
      for (const auto& d : spec.drives) {
        for (int i = 0; i < d.count; ++i) {
          SimDrive sd;
          bool hdd = d.type == "hdd";
          sd.media_type = hdd ? "HDD" : "SSD";
          sd.protocol = d.type == "nvme" ? "NVMe" : "SATA";
          sd.capacity_bytes = d.size_gb > 0 ? d.size_gb * 1'000'000'000 : sd.capacity_bytes;
          sd.model = std::string(d.type == "nvme" ? "Lab NVMe " : hdd ? "Lab HDD " : "Lab SSD ") +
                     std::to_string(sd.capacity_bytes / 1'000'000'000) + "GB";
          sd.serial = sn.serial + "-D" + std::to_string(sn.drives.size() + 1);
          sn.drives.push_back(sd);
        }
      }
      json model = models.value(spec.gpu_model, json::object());
      for (int i = 0; i < spec.gpu_count; ++i) {
        SimGpu g;
        g.model = spec.gpu_model;
        g.serial = sn.serial + "-GPU" + std::to_string(i);
        g.memory_mib = model.value("memory_mib", int64_t{81920});
        sn.gpus.push_back(g);
      }
      Status s = sims_[scheme]->AddNode(sn);
      if (!s.ok()) return s;
      NodeRun r;
      r.spec = spec;
      r.sim = sims_[scheme].get();
      r.epoch = r.sim->PowerEpoch(spec.name);
      json facts = json::parse(ReadTrimmed(FactsPath(dir_, spec.name)), nullptr, false);
      r.hang = facts.is_object() && facts["faults"].value("hang", false);
      r.pxe_fails = facts.is_object() && facts["faults"].value("pxe_fails", false);
      if (facts.is_object() && facts["faults"].contains("bmc"))
        InjectBmcFault(r, facts["faults"]["bmc"].get<std::string>());
      nodes_.emplace(spec.name, std::move(r));
    }
    return Status::Ok();
  }

  // Nodes whose BMC says On come up at once (the lab starting is not a boot). Returns the
  // nodes whose sshd did not come up ("" when all did).
  std::string StartPoweredOn() {
    for (auto& [name, r] : nodes_) {
      if (r.sim->PowerState(name) == "On") StartSshd(r);
      SetState(r, r.state);
    }
    int64_t deadline = NowMs() + 15'000;
    std::string failed;
    for (auto& [name, r] : nodes_) {
      if (r.state != NodeState::kUp) continue;
      bool up = false;
      while (!(up = Listening(r.spec)) && NowMs() < deadline) {
        if (r.pid > 0 && waitpid(r.pid, nullptr, WNOHANG) == r.pid) {
          r.pid = -1;
          r.restart_ms = NowMs() + 1'000;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (!up) {
        failed += (failed.empty() ? "" : ", ") + name + " (" + r.spec.ip + ":" +
                  std::to_string(r.spec.ssh_port) + ", see " +
                  (NodeDir(dir_, name) / "sshd.log").string() + ")";
      }
    }
    return failed;
  }

  void Run() {
    while (!g_stop) {
      Reap();
      HandleRequests();
      for (auto& [name, r] : nodes_) {
        NodeControl(name, r);
        Tick(r);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& [name, r] : nodes_) {
      StopNode(r);
      SetState(r, NodeState::kOff);
    }
    for (auto& [scheme, sim] : sims_) sim->Stop();
  }

 private:
  static bool Listening(const LabNodeSpec& n) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(n.ssh_port));
    inet_pton(AF_INET, n.ip.c_str(), &a.sin_addr);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
  }

  void SetState(NodeRun& r, NodeState s) {
    r.state = s;
    (void)WriteAtomic(NodeDir(dir_, r.spec.name) / "state", StateName(s));
  }

  // `systemctl reboot|poweroff` on a node (lab/tools) leaves a file in the node's control
  // folder; the node's BMC then restarts or shuts it down, as the OS would.
  void NodeControl(const std::string& name, NodeRun& r) {
    fs::path ctl = NodeDir(dir_, name) / "ctl";
    std::error_code ec;
    for (const auto& [file, reset] : {std::pair{"reboot", "GracefulRestart"},
                                      std::pair{"poweroff", "GracefulShutdown"}}) {
      if (!fs::exists(ctl / file, ec)) continue;
      fs::remove(ctl / file, ec);
      Status s = r.sim->Reset(name, reset);
      Log(name + ": " + file + " from the node" + (s.ok() ? "" : ": " + s.error().message()));
    }
  }

  void Reap() {
    std::lock_guard<std::mutex> lock(sshd_mu_);
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (auto& [name, r] : nodes_) {
        if (r.pid == pid) {
          sshd_pids_.erase(name);
          r.pid = -1;
          r.restart_ms = NowMs() + 1'000;
          if (r.state == NodeState::kUp)
            Log(name + ": sshd exited; starting it again in 1 s (see its sshd.log)");
        }
      }
    }
  }

  void StartSshd(NodeRun& r) {
    fs::path nd = NodeDir(dir_, r.spec.name);
    std::string boot_id = ReadTrimmed("/proc/sys/kernel/random/uuid");
    (void)WriteAtomic(nd / "boot_id", boot_id);
    const std::string log_path = (nd / "sshd.log").string();
    const std::string config = (nd / "sshd_config").string();
    pid_t pid = fork();
    if (pid == 0) {
      syscall(SYS_close_range, 3u, ~0u, 0u);  // never hand the BMC sockets to sshd
      int null = open("/dev/null", O_RDONLY);
      int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(null, 0);
      dup2(log, 1);
      dup2(log, 2);
      signal(SIGPIPE, SIG_DFL);
      execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", config.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid < 0) {
      Log(r.spec.name + ": fork failed");
      return;
    }
    r.pid = pid;
    {
      std::lock_guard<std::mutex> lock(sshd_mu_);
      sshd_pids_[r.spec.name] = pid;
    }
    (void)WriteAtomic(nd / "sshd.pid", std::to_string(pid));
    SetState(r, NodeState::kUp);
    if (r.hang) Freeze(r);
  }

  void Signal(NodeRun& r, int sig) {
    if (r.pid <= 0) return;
    for (pid_t p : NodeProcesses(r.pid, NodeDir(dir_, r.spec.name).string())) ::kill(p, sig);
  }

  void Freeze(NodeRun& r) {
    Signal(r, SIGSTOP);
    SetState(r, NodeState::kHung);
  }

  void StopNode(NodeRun& r) {
    std::lock_guard<std::mutex> lock(sshd_mu_);
    std::vector<pid_t> procs = NodeProcesses(r.pid, NodeDir(dir_, r.spec.name).string());
    for (pid_t p : procs) ::kill(p, SIGKILL);
    if (r.pid > 0) {
      while (waitpid(r.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    sshd_pids_.erase(r.spec.name);
    r.pid = -1;
    std::error_code ec;
    fs::remove(NodeDir(dir_, r.spec.name) / "sshd.pid", ec);
  }

  // The BMC cut the node's power (RedfishSim's on_power_loss, on the thread that answers
  // the BMC request): its processes die now, not at the supervisor's next tick, so that a
  // client told "Off" cannot still reach the node's sshd. The tick then sees the new power
  // epoch and reaps. Under sshd_mu_ the pid cannot be reaped (and reused) meanwhile.
  void CutPower(const std::string& node) {
    std::lock_guard<std::mutex> lock(sshd_mu_);
    auto it = sshd_pids_.find(node);
    if (it == sshd_pids_.end()) return;
    const pid_t sshd = it->second;
    for (pid_t p : NodeProcesses(sshd, NodeDir(dir_, node).string())) ::kill(p, SIGKILL);
    // Dead once it is a zombie: by then the kernel has closed its listening socket.
    const std::string stat_path = "/proc/" + std::to_string(sshd) + "/stat";
    for (int i = 0; i < 2'000; ++i) {
      std::string stat = ReadProcFile(stat_path);
      size_t close = stat.rfind(')');
      if (close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z') break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // Copies the image beside the old root, then swaps them. Deleting the old root first and
  // copying into its place was racy: a sandbox process that outlived StopNode could keep a
  // file in it, remove_all then left the folder, and `cp -a image root` copied the image
  // *into* it (root/image/etc), leaving a node with no /etc that never booted again.
  void Reimage(NodeRun& r) {
    const fs::path node_dir = NodeDir(dir_, r.spec.name);
    const fs::path root = node_dir / "root";
    const fs::path fresh = node_dir / "root.new";
    const fs::path old = node_dir / ("root.old." + std::to_string(NowMs()));
    std::error_code ec;
    fs::remove_all(fresh, ec);
    if (!RunQuiet({"cp", "-a", (dir_ / "image").string(), fresh.string()})) {
      Log(r.spec.name + ": reimage failed: cannot copy the image");
      return;
    }
    (void)WriteAtomic(fresh / "etc/hostname", r.spec.name);
    std::error_code moved;
    fs::rename(root, old, moved);  // fails only when there is no root yet
    std::error_code placed;
    fs::rename(fresh, root, placed);
    if (placed) {
      Log(r.spec.name + ": reimage failed: cannot put the fresh root in place: " +
          placed.message());
      return;
    }
    if (!moved) {
      fs::remove_all(old, ec);
      if (ec) Log(r.spec.name + ": the old root is left at " + old.string() + ": " + ec.message());
    }
    Log(r.spec.name + ": reimaged from " + (dir_ / "image").string());
  }

  void Tick(NodeRun& r) {
    const std::string& name = r.spec.name;
    uint64_t epoch = r.sim->PowerEpoch(name);
    if (epoch != r.epoch) {  // lost power: sessions gone, a hang is over
      r.epoch = epoch;
      StopNode(r);
      if (r.hang) SetHang(r, false);
      SetState(r, NodeState::kOff);
    }
    std::string power = r.sim->PowerState(name);
    bool powered = power == "On" || power == "PoweringOff";
    if (!powered) {
      if (r.state != NodeState::kOff) {
        StopNode(r);
        SetState(r, NodeState::kOff);
      }
      return;
    }
    if (r.state == NodeState::kOff) {
      std::string target = r.sim->TakeBootOverride(name);
      if ((target == "Pxe" || r.reimage) && r.pxe_fails) {
        Log(r.spec.name + ": the network boot failed (fault pxe-fails); it boots its old root");
      } else if (target == "Pxe" || r.reimage) {
        Reimage(r);
      }
      r.reimage = false;
      r.due_ms = NowMs() + static_cast<int64_t>(static_cast<double>(settings_.boot_ms) /
                                                std::max(settings_.speed, 0.001));
      SetState(r, NodeState::kBooting);
    }
    if (r.state == NodeState::kBooting && NowMs() >= r.due_ms) StartSshd(r);
    if (r.state == NodeState::kUp && r.pid < 0 && NowMs() >= r.restart_ms) StartSshd(r);
  }

  void SetHang(NodeRun& r, bool hang) {
    r.hang = hang;
    json facts = json::parse(ReadTrimmed(FactsPath(dir_, r.spec.name)), nullptr, false);
    if (!facts.is_object()) return;
    if (hang) return;
    facts["faults"].erase("hang");
    json specs = json::array();
    for (const auto& s : facts.value("fault_specs", json::array()))
      if (s != "hang") specs.push_back(s);
    facts["fault_specs"] = specs;
    (void)WriteAtomic(FactsPath(dir_, r.spec.name), facts.dump(1));
  }

  void InjectBmcFault(NodeRun& r, const std::string& kind) {
    static const std::map<std::string, SimFault> kFaults = {
        {"500", SimFault::kHttp500}, {"503", SimFault::kHttp503},
        {"hang", SimFault::kHang},   {"drop", SimFault::kDropConnection},
        {"slow", SimFault::kSlow},   {"gpu-missing", SimFault::kGpuMissing},
        {"html", SimFault::kWrongContentType}, {"expire-sessions", SimFault::kExpireSessions},
        {"reboot", SimFault::kBmcReboot},      {"clear", SimFault::kNone}};
    auto it = kFaults.find(kind);
    if (it != kFaults.end()) (void)r.sim->InjectFault(r.spec.name, it->second);
  }

  std::string Handle(NodeRun& r, const std::string& request) {
    std::string verb = request.substr(0, request.find(' '));
    std::string arg = request.size() > verb.size() ? request.substr(verb.size() + 1) : "";
    if (verb == "power") {
      Status s = r.sim->Reset(r.spec.name, arg);
      if (!s.ok()) return "error " + s.error().message();
      Tick(r);  // a node that lost power is down when the answer arrives
      return "ok " + arg;
    }
    if (verb == "reimage") {
      r.reimage = true;
      std::string power = r.sim->PowerState(r.spec.name);
      if (power == "Off") return "ok the node boots from a fresh image when powered on";
      Status s = r.sim->Reset(r.spec.name, "ForceRestart");
      if (!s.ok()) return "error " + s.error().message();
      Tick(r);
      return "ok reimaging";
    }
    if (verb == "fault") {
      fs::path path = FactsPath(dir_, r.spec.name);
      json facts = json::parse(ReadTrimmed(path), nullptr, false);
      if (!facts.is_object()) return "error cannot read " + path.string();
      auto bmc = ApplyFault(facts, arg);
      if (!bmc.ok()) return "error " + bmc.error().message();
      Status s = WriteAtomic(path, facts.dump(1));
      if (!s.ok()) return "error " + s.error().message();
      if (!bmc->empty()) InjectBmcFault(r, *bmc);
      if (arg == "pxe-fails") r.pxe_fails = true;
      if (arg == "clear") r.pxe_fails = false;
      if (arg == "hang" && !r.hang) {
        r.hang = true;
        if (r.state == NodeState::kUp) Freeze(r);
      } else if (arg == "clear" && r.hang) {
        r.hang = false;
        if (r.state == NodeState::kHung) {
          Signal(r, SIGCONT);
          SetState(r, NodeState::kUp);
        }
      }
      return "ok " + arg;
    }
    return "error unknown request '" + request + "'";
  }

  void HandleRequests() {
    fs::path rq = dir_ / "requests";
    std::vector<fs::path> reqs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(rq, ec))
      if (e.path().extension() == ".req") reqs.push_back(e.path());
    std::sort(reqs.begin(), reqs.end());
    for (const auto& p : reqs) {
      std::ifstream in(p);
      std::string node, request;
      std::getline(in, node);
      std::getline(in, request);
      in.close();
      fs::remove(p, ec);
      auto it = nodes_.find(node);
      std::string answer =
          it == nodes_.end() ? "error no node " + node : Handle(it->second, request);
      Log(node + ": " + request + " -> " + answer);
      fs::path done = p;
      done.replace_extension(".done");
      (void)WriteAtomic(done, answer);
    }
  }

  fs::path dir_;
  LabSettings settings_;
  // Each node's running sshd, for CutPower on a BMC thread; everything else is the loop's.
  // Declared before sims_: the BMCs call CutPower until they are destroyed.
  std::mutex sshd_mu_;
  std::map<std::string, pid_t> sshd_pids_;
  std::map<std::string, std::unique_ptr<RedfishSim>> sims_;
  std::map<std::string, NodeRun> nodes_;
};

}  // namespace

// The lab's Slurm: a real slurmctld and one slurmd per node (src/slurm/lab_slurm.h) under
// DIR/slurm, so that drain and resume go to real Slurm. Nodes start drained ("not admitted
// yet") the first time; later starts keep what slurmctld saved. The lab runs without it
// (and says so) when Slurm cannot start.
static std::optional<slurm::LabSlurm> StartSlurm(const fs::path& dir,
                                          const std::vector<LabNodeSpec>& specs) {
  std::vector<slurm::LabSlurmNode> nodes;
  for (const LabNodeSpec& s : specs) nodes.push_back({s.name, std::max(1, s.cpus), s.gpu_count});
  const fs::path sdir = dir / "slurm";
  std::error_code ec;
  const bool first = !fs::exists(sdir / "state", ec);
  Result<slurm::LabSlurm> started = slurm::StartLabSlurm(sdir.string(), nodes, 0);
  if (!started.ok()) {
    Log("no Slurm in this lab: " + started.error().message());
    (void)WriteAtomic(dir / "slurm.failed", started.error().message());
    return std::nullopt;
  }
  if (Status s = started->WaitResponding(30'000); !s.ok()) Log("slurm: " + s.error().message());
  if (first) {
    std::unique_ptr<slurm::SlurmControl> control = slurm::MakeScontrol(started->scontrol_options());
    for (const LabNodeSpec& s : specs) {
      Status d = control->Drain(s.name, "racksmith lab: not admitted yet");
      if (!d.ok()) Log("slurm: " + d.error().message());
    }
  }
  fs::remove(dir / "slurm.failed", ec);
  Log("slurm: slurmctld on 127.0.0.1:" + std::to_string(started->port()) + ", SLURM_CONF=" +
      started->slurm_conf());
  return std::move(*started);
}

Status LabRack::Serve(const std::string& bmc_password) {
  fs::path dir = dir_;
  if (int pid = SupervisorPid(); pid > 0 && pid != getpid())
    return Error(ErrorCode::kConflict,
                 "a supervisor runs already for " + dir_ + " (pid " + std::to_string(pid) + ")");
  auto lab = LoadLabFile(dir);
  if (!lab.ok()) {
    (void)WriteAtomic(dir / "serve.failed", lab.error().message());
    return lab.error();
  }
  Status s = WriteAtomic(dir / "serve.pid", std::to_string(getpid()));
  if (!s.ok()) return s;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Supervisor sup(dir, lab->first);
  s = sup.AddNodes(lab->second, bmc_password);
  if (!s.ok()) {
    (void)WriteAtomic(dir / "serve.failed", s.error().message());
    std::error_code ec;
    fs::remove(dir / "serve.pid", ec);
    return s;
  }
  std::string failed = sup.StartPoweredOn();
  std::optional<slurm::LabSlurm> slurm = StartSlurm(dir, lab->second);
  Log("ready: " + std::to_string(lab->second.size()) + " nodes" +
      (failed.empty() ? "" : "; sshd not answering: " + failed));
  (void)WriteAtomic(dir / "serve.ready", failed.empty() ? "ok" : "failed: " + failed);
  sup.Run();
  std::error_code ec;
  fs::remove(dir / "serve.ready", ec);
  fs::remove(dir / "serve.pid", ec);
  Log("stopped");
  return Status::Ok();
}

}  // namespace racksmith::lab
